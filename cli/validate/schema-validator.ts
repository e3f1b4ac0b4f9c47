import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { groupOf, KubeObject } from '../../model/objects';
import { pointerSegments } from '../../model/pointer';

/*
 * Checks objects against the schemas the API server uses: the Kubernetes OpenAPI v3 spec for
 * built-in kinds, and each CRD's openAPIV3Schema for custom kinds. Unknown fields are errors
 * (as with `kubectl apply --validate=strict`), except where a schema preserves unknown fields.
 */

export interface SchemaProblem {
  /** Field path inside the object, e.g. `spec.template.spec.containers[0].image`. */
  readonly path: string;
  readonly message: string;
}

export type SchemaSource = 'kubernetes' | 'crd';

export interface SchemaResult {
  readonly source: SchemaSource | 'none';
  readonly problems: readonly SchemaProblem[];
}

type Schema = Record<string, unknown>;

const ROOT_FIELDS = {
  apiVersion: { type: 'string' },
  kind: { type: 'string' },
  metadata: { type: 'object' },
};

/**
 * CRD patterns are Go (RE2) expressions; JavaScript has no inline flags, so RE2's `(?i)` (the
 * Prometheus Operator's CRDs write `^(?i)(abort|warn)?$`) becomes the `i` flag on the whole.
 */
const goRegExp = Object.assign(
  (pattern: string, flags: string) =>
    pattern.includes('(?i)')
      ? new RegExp(pattern.replaceAll('(?i)', ''), `${flags}i`)
      : new RegExp(pattern, flags),
  { code: 'new RegExp' },
);

export class SchemaValidator {
  private readonly ajv = new Ajv({
    strict: false,
    allErrors: true,
    validateFormats: false,
    logger: false,
    code: { regExp: goRegExp },
  });
  private readonly validators = new Map<string, ValidateFunction | null>();
  private readonly loadedFiles = new Set<string>();

  constructor(
    private readonly openApiDir: string,
    private readonly crds: readonly KubeObject[],
  ) {}

  public validate(obj: KubeObject): SchemaResult {
    const [validator, source] = this.validatorFor(obj);
    if (!validator) return { source: 'none', problems: [] };
    if (validator(obj)) return { source, problems: [] };
    return { source, problems: dedupe((validator.errors ?? []).map(toProblem)) };
  }

  private validatorFor(obj: KubeObject): [ValidateFunction | null, SchemaSource] {
    const key = `${obj.apiVersion}/${obj.kind}`;
    const crd = this.crdSchema(obj);
    const source: SchemaSource = crd ? 'crd' : 'kubernetes';
    if (!this.validators.has(key)) {
      this.validators.set(key, crd ? this.ajv.compile(closeSchema(crd)) : this.builtinValidator(obj));
    }
    return [this.validators.get(key)!, source];
  }

  private crdSchema(obj: KubeObject): Schema | undefined {
    const group = groupOf(obj.apiVersion);
    const version = obj.apiVersion.slice(group.length + 1);
    for (const crd of this.crds) {
      const spec = crd.spec as {
        group: string;
        names: { kind: string };
        versions: { name: string; schema?: { openAPIV3Schema: Schema } }[];
      };
      if (spec.group !== group || spec.names.kind !== obj.kind) continue;
      const schema = spec.versions.find((v) => v.name === version)?.schema?.openAPIV3Schema;
      // The API server accepts the object header on every custom resource, whether listed or not.
      return schema && { ...schema, properties: { ...ROOT_FIELDS, ...(schema.properties as Schema) } };
    }
    return undefined;
  }

  private builtinValidator(obj: KubeObject): ValidateFunction | null {
    const group = groupOf(obj.apiVersion);
    const version = group ? obj.apiVersion.slice(group.length + 1) : obj.apiVersion;
    const file = group ? `apis__${group}__${version}_openapi.json` : `api__${version}_openapi.json`;
    const path = join(this.openApiDir, file);
    if (!existsSync(path)) return null;
    const id = `k8s:${file}`;
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { components: { schemas: Record<string, Schema> } };
    if (!this.loadedFiles.has(file)) {
      this.ajv.addSchema({ $id: id, components: closeSchema(doc.components) }, id);
      this.loadedFiles.add(file);
    }
    const name = Object.entries(doc.components.schemas).find(([, schema]) =>
      (
        (schema['x-kubernetes-group-version-kind'] as
          { group: string; version: string; kind: string }[] | undefined) ?? []
      ).some((gvk) => gvk.group === group && gvk.version === version && gvk.kind === obj.kind),
    )?.[0];
    return name ? this.ajv.compile({ $ref: `${id}#/components/schemas/${name}` }) : null;
  }
}

/** Unknown fields become errors (except where preserved); int-or-string accepts both. */
export function closeSchema<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map(closeSchema) as T;
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema as Schema)) {
    // `$ref` and `default` values are data, not schemas.
    out[key] = key === 'default' || key === 'example' || key === 'enum' ? value : closeSchema(value);
  }
  if (out['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  const preserve = out['x-kubernetes-preserve-unknown-fields'] === true;
  if (out.properties && out.additionalProperties === undefined && !preserve) out.additionalProperties = false;
  if (out.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  return out as T;
}

function toProblem(error: ErrorObject): SchemaProblem {
  const path = pointerSegments(error.instancePath)
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
  if (error.keyword === 'additionalProperties') {
    const field = (error.params as { additionalProperty: string }).additionalProperty;
    return { path: path ? `${path}.${field}` : field, message: `unknown field '${field}'` };
  }
  return { path: path || '(root)', message: error.message ?? error.keyword };
}

function dedupe(problems: SchemaProblem[]): SchemaProblem[] {
  // oneOf/anyOf branches repeat the same complaint; keep the first of each.
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
