/**
 * A schema built the first time it is needed, then kept. Building zod schemas is most of what
 * importing a package of them costs (each `z.object` runs zod's constructors for every field and
 * check), and a host pays it on every cold start even for the parts it never uses: the store
 * records of a flow it does not run, the wire answers of a platform it never calls. Internal
 * schemas are declared with this; public ones (`postSchema`, a provider's credential schema) stay
 * plain values, since hosts use them as schemas.
 *
 * `const recordSchema = lazySchema(() => z.object({ ... }))`, then `recordSchema().parse(value)`,
 * and `z.infer<ReturnType<typeof recordSchema>>` for its type. A lazy schema built from another
 * calls it inside its own builder, so neither is built on import.
 */
export function lazySchema<SCHEMA>(build: () => SCHEMA): () => SCHEMA {
  let built: SCHEMA | undefined;
  return () => (built ??= build());
}
