/**
 * Validates a parsed manifest against data/manifest.schema.json. Here ajv compiles the schema when the module
 * loads (tests, the per-module tsc build); the published bundle replaces this module with the standalone
 * code ajv generates from the same schema at build time (scripts/build.mjs), so neither ajv's compiler nor
 * the schema file is loaded at run time.
 */
import AjvModule from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/package-root.js';

export interface SchemaError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  propertyName?: string;
  message?: string;
}

export type SchemaValidator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

/** Same options as scripts/build.mjs uses for the standalone code: first error only, strict schema. */
export const AJV_OPTIONS = { strict: true, allErrors: false } as const;

const Ajv = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as typeof AjvModule.default;
const schema = JSON.parse(readFileSync(join(packageRoot, 'data', 'manifest.schema.json'), 'utf8')) as object;

export const validateManifestSchema = new Ajv(AJV_OPTIONS).compile(schema) as SchemaValidator;
