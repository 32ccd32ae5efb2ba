import { memoryTokenStore, type TokenStore } from '@letmepost/core';

/** A store that already holds a host's entry, for the scenarios that need a store of their own. */
export async function prefilledTokenStore(): Promise<TokenStore> {
  const store = memoryTokenStore();
  await store.set('ws/acme/accounts/someone-else', '{"v":1}');
  return store;
}
