import { z } from 'zod';
import { PLATFORM_CONFIG_KEY } from '../model/constants';
import { ConfigError, showValue } from '../model/errors';
import { redactCredentials } from '../model/urls';
import { PlatformConfig, platformConfigSchema } from './schema';

/** Where a config came from, so every error can name the file, the line and the key path. */
export interface ConfigSource {
  /** File shown in messages, e.g. `stacks/Pulumi.prod.yaml`. */
  readonly file: string;
  /** Key the platform config sits under. @default "converge:platform" */
  readonly key?: string;
  /** Line of a key path in the file, when known. */
  readonly lineOf?: (path: readonly (string | number)[]) => number | undefined;
}

/** Validates raw config (from YAML or `pulumi.Config`) into a typed PlatformConfig. */
export function parsePlatformConfig(raw: unknown, source: ConfigSource): PlatformConfig {
  const key = source.key ?? PLATFORM_CONFIG_KEY;
  if (raw === undefined || raw === null) {
    throw new ConfigError([
      `${source.file}: ${key} is missing; declare the platform under config."${key}" (see the config reference in README.md)`,
    ]);
  }
  const result = platformConfigSchema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  // A credential a check did not foresee (a URL quoted in another key's message) is still cut.
  const problems = result.error.issues.map((issue) => redactCredentials(formatIssue(issue, key, source)));
  throw new ConfigError([...new Set(problems)]);
}

function formatIssue(issue: z.core.$ZodIssue, key: string, source: ConfigSource): string {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const line = source.lineOf?.(path);
  const where = line === undefined ? source.file : `${source.file}:${line}`;
  const keyPath = [key, ...path]
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
  const input = 'input' in issue ? issue.input : undefined;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const keys = issue.keys.map((k) => `'${k}'`).join(', ');
      return `${where}: ${keyPath} has unknown key ${keys}; remove it or fix its spelling (allowed keys are in README.md, "Config reference")`;
    }
    case 'invalid_type':
      return input === undefined
        ? `${where}: ${keyPath} is missing; it is required (a ${issue.expected}); add it`
        : `${where}: ${keyPath} is ${showValue(input)}; it must be a ${issue.expected}; change its type`;
    case 'invalid_value':
      return `${where}: ${keyPath} is ${showValue(input)}; allowed: ${issue.values.map((v) => String(v)).join(', ')}; use one of those`;
    case 'too_small':
      return `${where}: ${keyPath} is ${showValue(input)}; it needs at least ${String(issue.minimum)} ${issue.origin === 'array' ? 'entries' : ''}; add more`.replace(
        '  ',
        ' ',
      );
    case 'invalid_key': {
      const inner = issue.issues.find((i) => i.code === 'custom');
      return `${where}: ${keyPath} is ${showValue(input)}; ${inner?.message ?? issue.message}`;
    }
    case 'invalid_union':
      return `${where}: ${keyPath} is ${showValue(input)}; it must be false or a retry object (limit, backoffDuration, backoffFactor, backoffMaxDuration); fix its shape`;
    default: {
      const shown = issue.code === 'custom' ? (issue.params?.shown as string | undefined) : undefined;
      return `${where}: ${keyPath} is ${shown ?? showValue(input)}; ${issue.message}`;
    }
  }
}
