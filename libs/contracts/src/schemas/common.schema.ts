import { z } from 'zod';

export const jsonObjectSchema = z.record(z.string(), z.unknown());
export const identifierSchema = z.string().min(1).max(200);
export const sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha-256 hex digest');
export const artifactRefSchema = z.object({ name: identifierSchema, version: z.number().int().min(1) });
