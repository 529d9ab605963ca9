import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { z } from 'zod'
import { badInput } from './errors.js'
import { configSchema, type Config } from './config-schema.js'
import { closestKey, positionOf, readYamlFile, type LocatedYaml } from './yaml-file.js'

type LocatedConfig = LocatedYaml & { value: Record<string, unknown> }

export const CONFIG_FILE_NAME = 'opsctl.yaml'
export const STATE_DIR_NAME = '.opsctl'

export interface Settings {
  config: Config
  /** The config file that was read, if any. */
  configPath: string | undefined
  /** Where opsctl.yaml lives (or the working directory when there is none). */
  rootDir: string
  /** `.opsctl/` beside the config: journal, embedded database, deploy state, baselines. */
  stateDir: string
}

export interface LoadConfigOptions {
  cwd?: string
  /** An explicit --config path; it must exist. */
  configPath?: string
  env?: NodeJS.ProcessEnv
  /** Flag values by config path ('database.url'); they win over env and file. */
  overrides?: Record<string, unknown>
}

export function loadConfig(options: LoadConfigOptions = {}): Settings {
  const cwd = options.cwd ?? process.cwd()
  const env = options.env ?? process.env
  const explicit = options.configPath ?? env.OPSCTL_CONFIG
  const configPath = explicit ? resolve(cwd, explicit) : findConfigFile(cwd)
  if (explicit && !existsSync(configPath!)) {
    throw badInput(`Config file ${explicit} does not exist`, `Create it, or drop --config to use ${CONFIG_FILE_NAME} in this directory.`)
  }

  let raw: Record<string, unknown> = {}
  let located: LocatedConfig | undefined
  if (configPath) {
    located = parseYamlFile(configPath)
    raw = located.value
  }

  const merged = structuredClone(raw)
  for (const { path, value } of environmentOverrides(env)) setPath(merged, path, value)
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) setPath(merged, key.split('.'), value)
  }

  const result = configSchema.safeParse(merged)
  if (!result.success) throw describeConfigIssue(result.error.issues, configPath, located)

  const rootDir = configPath ? dirname(configPath) : cwd
  return { config: result.data, configPath, rootDir, stateDir: join(rootDir, STATE_DIR_NAME) }
}

/** opsctl.yaml in the working directory or the nearest parent that has one. */
export function findConfigFile(start: string): string | undefined {
  let dir = resolve(start)
  for (;;) {
    const candidate = join(dir, CONFIG_FILE_NAME)
    if (existsSync(candidate)) return candidate
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

function parseYamlFile(file: string): LocatedConfig {
  const located = readYamlFile(file, 'config file')
  const value = located.value ?? {}
  if (typeof value !== 'object' || Array.isArray(value) || value === null) {
    throw badInput(`${file}:1:1: the config must be a mapping of sections (service, database, journal, ...)`)
  }
  return { ...located, value: value as Record<string, unknown> }
}

function describeConfigIssue(issues: z.core.$ZodIssue[], file: string | undefined, located: LocatedConfig | undefined) {
  const messages = issues.map((issue) => {
    const basePath = issue.path.map(String)
    if (issue.code === 'unrecognized_keys') {
      return issue.keys
        .map((key) => {
          const path = [...basePath, key]
          const suggestion = closestKey(key, knownKeys(basePath))
          return `${where(file, located, path, 'key')}unknown key "${path.join('.')}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`
        })
        .join('\n')
    }
    return `${where(file, located, basePath, 'value')}${basePath.join('.') || '(root)'}: ${issue.message}`
  })
  return badInput(messages.join('\n'), 'Check key names and types against schema/opsctl.schema.json (opsctl config schema).')
}

/** "opsctl.yaml:3:5: " for keys present in the file; "env OPSCTL_X: " or nothing otherwise. */
function where(file: string | undefined, located: LocatedConfig | undefined, path: string[], part: 'key' | 'value'): string {
  const position = located ? positionOf(located, path, part) : undefined
  if (file && position) return `${file}:${position.line}:${position.col}: `
  return file && located && pathExists(located.value, path) ? `${file}: ` : `${envNameOf(path)} (or a flag): `
}

function pathExists(value: unknown, path: string[]): boolean {
  let current = value
  for (const segment of path) {
    if (current === null || typeof current !== 'object' || !(segment in current)) return false
    current = (current as Record<string, unknown>)[segment]
  }
  return true
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let current = target
  for (const segment of path.slice(0, -1)) {
    const next = current[segment]
    if (next === null || typeof next !== 'object' || Array.isArray(next)) current[segment] = {}
    current = current[segment] as Record<string, unknown>
  }
  current[path.at(-1)!] = value
}

// --- environment overrides, derived from the schema's leaves ---

interface Leaf {
  path: string[]
  type: 'string' | 'number' | 'boolean' | 'array'
}

export function envNameOf(path: string[]): string {
  return `OPSCTL_${path.map((segment) => segment.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`
}

/** Every config leaf with its env name, for docs and for override parsing. */
export function configLeaves(): Array<Leaf & { env: string }> {
  return collectLeaves(configSchema, []).map((leaf) => ({ ...leaf, env: envNameOf(leaf.path) }))
}

function collectLeaves(schema: z.ZodType, path: string[]): Leaf[] {
  const inner = unwrap(schema)
  const def = inner._zod.def as { type: string; shape?: Record<string, z.ZodType> }
  if (def.type === 'object' && def.shape) {
    return Object.entries(def.shape).flatMap(([key, child]) => collectLeaves(child, [...path, key]))
  }
  const type = def.type === 'number' || def.type === 'boolean' || def.type === 'array' ? def.type : 'string'
  return [{ path, type }]
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema
  for (;;) {
    const def = current._zod.def as { type: string; innerType?: z.ZodType }
    if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable') && def.innerType) current = def.innerType
    else return current
  }
}

function knownKeys(path: string[]): string[] {
  const prefix = path.join('.')
  const keys = new Set<string>()
  for (const leaf of configLeaves()) {
    const full = leaf.path.join('.')
    if (prefix && !full.startsWith(`${prefix}.`)) continue
    const rest = prefix ? leaf.path.slice(path.length) : leaf.path
    if (rest[0]) keys.add(rest[0])
  }
  return [...keys]
}

function environmentOverrides(env: NodeJS.ProcessEnv): Array<{ path: string[]; value: unknown }> {
  const overrides: Array<{ path: string[]; value: unknown }> = []
  for (const leaf of configLeaves()) {
    let text = env[leaf.env]
    if (text === undefined && leaf.env === 'OPSCTL_DATABASE_URL') text = env.DATABASE_URL
    if (text === undefined || text === '') continue
    overrides.push({ path: leaf.path, value: coerceEnv(leaf, text) })
  }
  return overrides
}

function coerceEnv(leaf: Leaf & { env: string }, text: string): unknown {
  switch (leaf.type) {
    case 'number': {
      const value = Number(text)
      if (!Number.isFinite(value)) throw badInput(`${leaf.env}=${JSON.stringify(text)}: expected a number`)
      return value
    }
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(text)) return true
      if (/^(0|false|no|off)$/i.test(text)) return false
      throw badInput(`${leaf.env}=${JSON.stringify(text)}: expected true or false`)
    case 'array':
      return text
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
    default:
      return text
  }
}
