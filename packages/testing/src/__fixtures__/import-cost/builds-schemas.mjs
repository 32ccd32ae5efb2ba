// Fixture for import-cost.test.ts: two schemas at import (an object and its string field), one
// built only when asked for, and a Node built-in loaded by an ES module import.
import 'node:net';
import { z } from 'zod';

export const eager = z.object({ name: z.string() });
export const later = () => z.object({ name: z.string() });
