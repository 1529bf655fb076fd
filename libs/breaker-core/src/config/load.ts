import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, errorMessage } from '../errors.js';
import { describeValue, type Issue, toIssues } from '../validation.js';
import {
  blockIssues,
  ENVIRONMENTS,
  type Environment,
  mergedIssues,
  mergeSettings,
  type ServiceSettings,
  serviceSettingsSchema,
} from './schema.js';

// Re-exported so the loader's result type and its parts come from one import.
export type { ServiceSettings } from './schema.js';

export interface LoadedConfig {
  environment: Environment;
  /** The path the file was read from, or '<text>'. */
  source: string;
  /** global.defaults merged with this environment's global.defaults: what a service not in the file gets. */
  defaults: ServiceSettings;
  /** 'group.service' -> its merged settings. */
  services: Readonly<Record<string, ServiceSettings>>;
}

export interface LoadConfigOptions {
  /** Overrides GL_VCCI_ENV. */
  environment?: string;
}

/**
 * The largest configuration loadConfig reads: 1 MiB. The shipped file is a few KiB; anything near
 * the cap is a mistake (a wrong path, a generated file gone wild) or an attack on the parser.
 */
export const MAX_CONFIG_BYTES = 1_048_576;
const LIMIT = `its limit of ${MAX_CONFIG_BYTES} bytes (1 MiB)`;

const TEXT_SOURCE = '<text>';
const ENV_VARIABLE = 'GL_VCCI_ENV';

/** One level of the file: the base, or one environment's overrides. */
interface Level {
  defaults: ServiceSettings | undefined;
  services: Map<string, ServiceSettings>;
}

interface Base extends Level {
  groups: Set<string>;
}

/**
 * Reads circuit_breaker_config.yaml (a path, or YAML text when the string has a newline) and
 * merges it for one environment. The whole file, every environment included, is checked, so a
 * production-only mistake fails in development too; all problems come in one ConfigError.
 */
export function loadConfig(pathOrText: string, options: LoadConfigOptions = {}): LoadedConfig {
  const environment = pickEnvironment(options.environment);
  const isText = pathOrText.includes('\n');
  const source = isText ? TEXT_SOURCE : pathOrText;
  if (isText) checkTextSize(pathOrText);
  const root = parseYaml(isText ? pathOrText : readText(pathOrText), source);

  const issues: Issue[] = [];
  const base: Base = { defaults: undefined, services: new Map(), groups: new Set() };
  const overrides = readFile(root, base, issues);
  // Cross-key rules only make sense on values that passed their own checks.
  if (issues.length > 0) throw configError(source, issues);
  const resolved = new Map(ENVIRONMENTS.map((env) => [env, resolve(base, overrides[env])] as const));
  issues.push(...crossKeyIssues(resolved));
  if (issues.length > 0) throw configError(source, issues);

  const { defaults, services } = resolved.get(environment)!;
  return Object.freeze({ environment, source, defaults, services });
}

/** The settings of a service, or the defaults for a name the file does not list. */
export function settingsFor(config: LoadedConfig, name: string): ServiceSettings {
  return Object.hasOwn(config.services, name) ? config.services[name]! : config.defaults;
}

function pickEnvironment(option: string | undefined): Environment {
  const fromEnv = process.env[ENV_VARIABLE];
  const [value, origin] = option !== undefined ? [option, 'environment'] : [fromEnv ?? 'development', ENV_VARIABLE];
  if ((ENVIRONMENTS as ReadonlyArray<string>).includes(value)) return value as Environment;
  const message = `expected one of ${ENVIRONMENTS.join(', ')}, got ${describeValue(value)}`;
  throw new ConfigError(`${origin}: ${message}`, [{ path: origin, message }]);
}

/** Reads at most MAX_CONFIG_BYTES (one more to tell), so neither a huge file nor /dev/zero is read whole. */
function readText(path: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const { size } = fstatSync(fd);
    if (size > MAX_CONFIG_BYTES) throw tooLarge(path, `the configuration file is ${size} bytes, over ${LIMIT}`);
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length < buffer.length; length += read) {
      read = readSync(fd, buffer, length, buffer.length - length, null);
    }
    // A file that grew after fstat, or one whose size stat cannot tell (a pipe, a device).
    if (length > MAX_CONFIG_BYTES) throw tooLarge(path, `the configuration file is more than ${LIMIT}`);
    return buffer.toString('utf8', 0, length);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(error);
    const message = `cannot read the configuration file: ${reason}`;
    throw new ConfigError(`${path}: ${message}`, [{ path: '', message }], error);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function checkTextSize(text: string): void {
  // Cheap upper bound first: a UTF-16 code unit is at most 3 UTF-8 bytes.
  if (text.length * 3 <= MAX_CONFIG_BYTES) return;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_CONFIG_BYTES) throw tooLarge(TEXT_SOURCE, `the configuration is ${bytes} bytes, over ${LIMIT}`);
}

function tooLarge(source: string, message: string): ConfigError {
  return new ConfigError(`${source}: ${message}`, [{ path: '', message }]);
}

function parseYaml(text: string, source: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter, merge: true });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((error) => {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      return { path: '', message: `YAML syntax error at line ${line}, column ${col}: ${error.message}` };
    });
    throw configError(source, issues);
  }
  try {
    return doc.toJS();
  } catch (error) {
    // e.g. an alias bomb past yaml's maxAliasCount
    throw new ConfigError(`${source}: ${errorMessage(error)}`, [{ path: '', message: errorMessage(error) }], error);
  }
}

function readFile(root: unknown, base: Base, issues: Issue[]): Partial<Record<Environment, Level>> {
  if (!isMapping(root)) {
    const message = `expected a mapping of global, environments and service groups, got ${describeValue(root)}`;
    issues.push({ path: '(root)', message });
    return {};
  }
  for (const [key, value] of Object.entries(root)) {
    if (key === 'global') base.defaults = readGlobal(value, ['global'], issues);
    else if (key !== 'environments') {
      base.groups.add(key);
      readGroup(value, [key], base.services, issues);
    }
  }
  // After the groups, so the typo guard knows every base service whatever the key order.
  return readEnvironments(root.environments, base, issues);
}

function readEnvironments(value: unknown, base: Base, issues: Issue[]): Partial<Record<Environment, Level>> {
  const levels: Partial<Record<Environment, Level>> = {};
  if (value == null) return levels;
  if (!isMapping(value)) {
    issues.push({ path: 'environments', message: `expected a mapping of environments, got ${describeValue(value)}` });
    return levels;
  }
  for (const [env, block] of Object.entries(value)) {
    const path = ['environments', env];
    if (!(ENVIRONMENTS as ReadonlyArray<string>).includes(env)) {
      const message = `expected one of ${ENVIRONMENTS.join(', ')}, got ${describeValue(env)}`;
      issues.push({ path: join(path), message });
    } else levels[env as Environment] = readOverrides(block, path, base, issues);
  }
  return levels;
}

function readOverrides(value: unknown, path: string[], base: Base, issues: Issue[]): Level {
  const level: Level = { defaults: undefined, services: new Map() };
  if (value == null) return level;
  if (!isMapping(value)) {
    issues.push({ path: join(path), message: `expected a mapping of overrides, got ${describeValue(value)}` });
    return level;
  }
  for (const [key, block] of Object.entries(value)) {
    if (key === 'global') level.defaults = readGlobal(block, [...path, 'global'], issues);
    else if (!base.groups.has(key)) {
      issues.push({ path: join([...path, key]), message: 'no such group in the base configuration' });
    } else readGroup(block, [...path, key], level.services, issues, base.services);
  }
  return level;
}

function readGlobal(value: unknown, path: string[], issues: Issue[]): ServiceSettings | undefined {
  if (value == null) return undefined;
  if (!isMapping(value)) {
    issues.push({ path: join(path), message: `expected a mapping with a defaults block, got ${describeValue(value)}` });
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (key !== 'defaults')
      issues.push({ path: join([...path, key]), message: 'unknown key; global holds only defaults' });
  }
  return readBlock(value.defaults, [...path, 'defaults'], issues);
}

/** Reads a group's service blocks into `into`; with `known`, a service must already exist there. */
function readGroup(
  value: unknown,
  path: string[],
  into: Map<string, ServiceSettings>,
  issues: Issue[],
  known?: ReadonlyMap<string, ServiceSettings>,
): void {
  if (!isMapping(value)) {
    issues.push({ path: join(path), message: `expected a mapping of services, got ${describeValue(value)}` });
    return;
  }
  const group = path.at(-1)!;
  for (const [service, block] of Object.entries(value)) {
    const name = `${group}.${service}`;
    if (known && !known.has(name)) {
      issues.push({ path: join([...path, service]), message: 'no such service in the base configuration' });
    } else into.set(name, readBlock(block, [...path, service], issues));
  }
}

/** Validates one block of service keys; an empty block (`epa:` alone) means "all inherited". */
function readBlock(value: unknown, path: string[], issues: Issue[]): ServiceSettings {
  if (value == null) return {};
  if (!isMapping(value)) {
    issues.push({ path: join(path), message: `expected a mapping of service settings, got ${describeValue(value)}` });
    return {};
  }
  const parsed = serviceSettingsSchema.safeParse(value);
  if (!parsed.success) {
    issues.push(...toIssues(parsed.error, value, path, { showStrings: true }));
    return {};
  }
  for (const { key, message } of blockIssues(parsed.data)) issues.push({ path: join([...path, key]), message });
  return parsed.data;
}

interface Resolved {
  defaults: ServiceSettings;
  services: Readonly<Record<string, ServiceSettings>>;
}

// Merge order, later wins key by key: global.defaults <- env global.defaults <- service <- env service.
function resolve(base: Base, env: Level | undefined): Resolved {
  const defaults = Object.freeze(mergeSettings(base.defaults, env?.defaults));
  const services: Record<string, ServiceSettings> = {};
  for (const [name, settings] of base.services) {
    services[name] = Object.freeze(mergeSettings(base.defaults, env?.defaults, settings, env?.services.get(name)));
  }
  return { defaults, services: Object.freeze(services) };
}

/** Checks every environment's merged blocks, listing a problem once with the environments it shows in. */
function crossKeyIssues(resolved: ReadonlyMap<Environment, Resolved>): Issue[] {
  const found = new Map<string, { path: string; message: string; envs: Environment[] }>();
  for (const [env, { defaults, services }] of resolved) {
    const blocks: Array<[string, ServiceSettings]> = [['global.defaults', defaults], ...Object.entries(services)];
    for (const [blockPath, settings] of blocks) {
      for (const { key, message } of mergedIssues(settings)) {
        const path = join([blockPath, key]);
        const entry = found.get(`${path}\0${message}`) ?? { path, message, envs: [] };
        entry.envs.push(env);
        found.set(`${path}\0${message}`, entry);
      }
    }
  }
  return [...found.values()].map(({ path, message, envs }) => ({
    path,
    message: `${message} (in ${envs.join(', ')})`,
  }));
}

function configError(source: string, issues: ReadonlyArray<Issue>): ConfigError {
  const lines = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
  return new ConfigError(`${source}: ${lines.join('; ')}`, issues);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(path: ReadonlyArray<string>): string {
  return path.filter((part) => part !== '').join('.');
}
