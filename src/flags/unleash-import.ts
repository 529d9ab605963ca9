/**
 * Unleash's data -> flags.yaml, for teams moving from Unleash: a client API document
 * (`/api/client/features`: features and segments), a delta API document (`/api/client/delta`:
 * events, applied in order), or an export (`/api/admin/features-batch/export`). Pure: data in,
 * the flags.yaml text and what could not be said in it out (each skipped flag with the reason),
 * never silently dropped. The result is checked by the flags.yaml reader before it is returned.
 */
import { stringify } from 'yaml'
import { badInput } from '../core/index.js'
import { toClientVariants } from './client-api.js'
import { parseFlagsText } from './flags-file.js'
import {
  FLAG_NAME_PATTERN,
  FLAG_NAME_RULE,
  FLAG_TYPES,
  isKnownOperator,
  OPERATOR_PATTERN,
  TOTAL_VARIANT_WEIGHT,
  takesSingleValue,
  URL_SAFE_NAME_PATTERN,
} from './schema.js'

export interface ImportOptions {
  /** The environment the data is of (a client token's or an export's); default development. */
  environment?: string
  /** Owner written for every flag (Unleash has none); default "unknown". */
  owner?: string
  /** Creation date for flags whose data has none (YYYY-MM-DD). */
  today: string
  /** Shown in the file's header comment. */
  source?: string
}

export interface ImportResult {
  text: string
  environment: string
  flags: string[]
  segments: string[]
  /** Flags (or segments) flags.yaml cannot express, and why. */
  skipped: Array<{ name: string; reason: string }>
  /** Things converted with a change of form (same behaviour): said once each. */
  notes: string[]
}

type Json = Record<string, unknown>

class Inexpressible extends Error {}

const STRATEGIES = new Set([
  'default',
  'flexibleRollout',
  'userWithId',
  'remoteAddress',
  'gradualRolloutUserId',
  'gradualRolloutSessionId',
  'gradualRolloutRandom',
])

/** Reads any of the three shapes into features and segments of one environment. */
function normalizeInput(data: unknown, environment: string): { features: Json[]; segments: Json[] } {
  if (!isObject(data)) throw badInput('The Unleash data must be a JSON object (a client API, delta API or export document)')
  if (Array.isArray(data.events)) {
    const features = new Map<string, Json>()
    const segments = new Map<number, Json>()
    for (const event of data.events.filter(isObject)) {
      if (event.type === 'hydration') {
        features.clear()
        segments.clear()
        for (const feature of asObjects(event.features)) features.set(String(feature.name), feature)
        for (const segment of asObjects(event.segments)) segments.set(Number(segment.id), segment)
      } else if (event.type === 'feature-updated' && isObject(event.feature)) features.set(String(event.feature.name), event.feature)
      else if (event.type === 'feature-removed') features.delete(String(event.featureName))
      else if (event.type === 'segment-updated' && isObject(event.segment)) segments.set(Number(event.segment.id), event.segment)
      else if (event.type === 'segment-removed') segments.delete(Number(event.segmentId))
    }
    return { features: [...features.values()], segments: [...segments.values()] }
  }
  if (Array.isArray(data.featureStrategies) || Array.isArray(data.featureEnvironments)) return fromExport(data, environment)
  if (Array.isArray(data.features)) return { features: asObjects(data.features), segments: asObjects(data.segments) }
  throw badInput('The Unleash data has neither features, events nor featureStrategies', 'Give a client API, delta API or export document.')
}

/** An export: features, their strategies and environment state apart, joined here into client-API features. */
function fromExport(data: Json, environment: string): { features: Json[]; segments: Json[] } {
  const strategies = asObjects(data.featureStrategies)
  const environments = asObjects(data.featureEnvironments)
  const dependencies = asObjects(data.dependencies)
  const features = asObjects(data.features).map((feature) => {
    const name = String(feature.name)
    const state = environments.find((item) => item.featureName === name && (item.environment ?? environment) === environment)
    return {
      ...feature,
      enabled: state?.enabled === true,
      variants: Array.isArray(state?.variants) ? state.variants : [],
      strategies: strategies
        .filter((strategy) => strategy.featureName === name && (strategy.environment ?? environment) === environment)
        .sort((a, b) => Number(a.sortOrder ?? 0) - Number(b.sortOrder ?? 0))
        .map(({ featureName: _feature, environment: _environment, ...strategy }) => strategy),
      dependencies: dependencies.find((item) => item.feature === name)?.dependencies ?? [],
    }
  })
  return { features, segments: asObjects(data.segments) }
}

/** Converts Unleash data to a flags.yaml text (validated), with what could not be expressed. */
export function importUnleashData(data: unknown, options: ImportOptions): ImportResult {
  const environment = options.environment ?? 'development'
  const { features, segments } = normalizeInput(data, environment)
  const skipped: ImportResult['skipped'] = []
  const notes = new Set<string>()

  const segmentNames = new Map<number, string>()
  const segmentsOut: Record<string, Json> = {}
  for (const segment of segments) {
    const id = Number(segment.id)
    const wanted = typeof segment.name === 'string' && URL_SAFE_NAME_PATTERN.test(segment.name) ? segment.name : `segment-${id}`
    const name = segmentsOut[wanted] ? `${wanted}-${id}` : wanted
    try {
      segmentsOut[name] = {
        ...(typeof segment.description === 'string' && segment.description ? { description: segment.description } : {}),
        constraints: asObjects(segment.constraints).map(convertConstraint),
      }
      segmentNames.set(id, name)
    } catch (error) {
      if (!(error instanceof Inexpressible)) throw error
      skipped.push({ name: `segment ${name}`, reason: error.message })
    }
  }
  const segmentName = (id: unknown) => segmentNames.get(Number(id)) ?? `missing-segment-${String(id)}`

  const flagsOut: Record<string, Json> = {}
  let project: string | undefined
  for (const feature of features) {
    const name = String(feature.name ?? '')
    try {
      if (!FLAG_NAME_PATTERN.test(name)) throw new Inexpressible(`not a flag name: ${FLAG_NAME_RULE}`)
      if (!URL_SAFE_NAME_PATTERN.test(name)) notes.add(`${name} is not URL-safe: flags serve takes it, Unleash refuses to create it`)
      if (!Array.isArray(feature.strategies)) throw new Inexpressible('its strategies are not a list (SDKs treat it as off)')
      project ??= typeof feature.project === 'string' ? feature.project : undefined
      const type = FLAG_TYPES.includes(feature.type as (typeof FLAG_TYPES)[number]) ? String(feature.type) : 'release'
      if (feature.type !== undefined && feature.type !== type) notes.add(`flag type ${JSON.stringify(feature.type)} is written as release`)
      const strategies = asObjects(feature.strategies)
        .filter((strategy) => strategy.disabled !== true)
        .map((strategy) => convertStrategy(strategy, name, segmentName))
      const config: Json = { enabled: feature.enabled === true }
      if (strategies.length) config.strategies = strategies
      Object.assign(config, convertVariants(feature.variants, 'variants'))
      const dependencies = asObjects(feature.dependencies).map((dependency) => ({
        feature: String(dependency.feature),
        ...(dependency.enabled === false ? { enabled: false } : {}),
        ...(dependency.enabled !== false && Array.isArray(dependency.variants) && dependency.variants.length
          ? { variants: dependency.variants.map(String) }
          : {}),
      }))
      flagsOut[name] = {
        type,
        description:
          typeof feature.description === 'string' && feature.description.trim() ? feature.description : `${name} (imported from Unleash)`,
        owner: options.owner ?? 'unknown',
        created:
          typeof feature.createdAt === 'string' && !Number.isNaN(Date.parse(feature.createdAt))
            ? feature.createdAt.slice(0, 10)
            : options.today,
        ...(feature.impressionData === true ? { impressionData: true } : {}),
        ...(dependencies.length ? { dependencies } : {}),
        environments: { [environment]: config },
      }
    } catch (error) {
      if (!(error instanceof Inexpressible)) throw error
      skipped.push({ name, reason: error.message })
    }
  }

  const document = {
    environments: [environment],
    ...(project && project !== 'default' ? { project } : {}),
    ...(Object.keys(segmentsOut).length ? { segments: segmentsOut } : {}),
    flags: flagsOut,
  }
  const header = `# Imported from ${options.source ?? 'Unleash'} (environment ${environment}) by opsctl flags import.\n`
  const text = header + stringify(document, { lineWidth: 0 })
  parseFlagsText(text, 'flags.yaml') // what we write must read back; a failure here is a bug in this converter
  return { text, environment, flags: Object.keys(flagsOut), segments: Object.keys(segmentsOut), skipped, notes: [...notes] }
}

function convertStrategy(strategy: Json, flag: string, segmentName: (id: unknown) => string): Json {
  const name = String(strategy.name)
  if (!STRATEGIES.has(name)) throw new Inexpressible(`strategy ${JSON.stringify(name)} is not one of Unleash's built-in strategies`)
  const parameters = isObject(strategy.parameters) ? strategy.parameters : {}
  const out: Json = { name }
  const percent = (key: string) => {
    const value = Number(parameters[key] ?? 0)
    if (!Number.isInteger(value) || value < 0 || value > 100)
      throw new Inexpressible(`${name} ${key} ${JSON.stringify(parameters[key])} is not a whole percentage`)
    return value
  }
  const list = (key: string) => {
    const items = String(parameters[key] ?? '')
      .split(/\s*,\s*/)
      .filter((item) => item !== '')
    if (items.length === 0) throw new Inexpressible(`${name} has no ${key}`)
    return items
  }
  switch (name) {
    case 'flexibleRollout':
      out.rollout = percent('rollout')
      out.stickiness = typeof parameters.stickiness === 'string' && parameters.stickiness ? parameters.stickiness : 'default'
      if (parameters.groupId !== flag) out.groupId = typeof parameters.groupId === 'string' ? parameters.groupId : ''
      break
    case 'userWithId':
      out.userIds = list('userIds')
      break
    case 'remoteAddress':
      out.IPs = list('IPs')
      break
    case 'gradualRolloutUserId':
    case 'gradualRolloutSessionId':
      out.percentage = percent('percentage')
      if (typeof parameters.groupId === 'string') out.groupId = parameters.groupId
      break
    case 'gradualRolloutRandom':
      out.percentage = percent('percentage')
      break
  }
  const constraints = asObjects(strategy.constraints).map(convertConstraint)
  if (constraints.length) out.constraints = constraints
  if (Array.isArray(strategy.segments) && strategy.segments.length) out.segments = strategy.segments.map(segmentName)
  Object.assign(out, convertVariants(strategy.variants, 'variants'))
  return out
}

function convertConstraint(constraint: Json): Json {
  const operator = String(constraint.operator)
  const out: Json = { contextName: String(constraint.contextName), operator }
  if (!isKnownOperator(operator)) {
    // kept as it is, as SDKs read it: a constraint that never matches (flags validate says so)
    if (!OPERATOR_PATTERN.test(operator)) throw new Inexpressible(`operator ${JSON.stringify(operator)} is not a word`)
    if (Array.isArray(constraint.values) && constraint.values.length) out.values = constraint.values.map(String)
    else if (constraint.value !== undefined && constraint.value !== null) out.value = String(constraint.value)
    else out.values = []
  } else if (takesSingleValue(operator)) {
    if (constraint.value === undefined || constraint.value === null) throw new Inexpressible(`${operator} constraint without a value`)
    out.value = String(constraint.value)
    if (operator.startsWith('NUM_') && !Number.isFinite(Number(out.value)))
      throw new Inexpressible(`${operator} compares with ${JSON.stringify(out.value)}, not a number`)
    if (operator.startsWith('DATE_') && Number.isNaN(Date.parse(String(out.value))))
      throw new Inexpressible(`${operator} compares with ${JSON.stringify(out.value)}, not a date`)
  } else {
    const values = Array.isArray(constraint.values) ? constraint.values.map(String) : []
    out.values = values
  }
  if (constraint.inverted === true) out.inverted = true
  if (constraint.caseInsensitive === true) out.caseInsensitive = true
  return out
}

/**
 * Variants as Unleash serves them (weights adding up to 1000, sorted by name) become plain
 * variants; anything else (Unleash 3/4 data: weights adding up to 100, file order) is kept
 * exactly, with variantsAsWritten, so that every user keeps the variant they had.
 */
function convertVariants(input: unknown, key: 'variants'): Json {
  const variants = asObjects(input)
  if (variants.length === 0) return {}
  const converted = variants.map((variant) => {
    const weight = Number(variant.weight)
    if (!Number.isInteger(weight) || weight < 0 || weight > TOTAL_VARIANT_WEIGHT)
      throw new Inexpressible(
        `variant ${JSON.stringify(variant.name)} has weight ${JSON.stringify(variant.weight)} (Unleash weighs 0..1000)`,
      )
    const out: Json = { name: String(variant.name), weight: `${weight / 10}%` }
    if (typeof variant.stickiness === 'string' && variant.stickiness) out.stickiness = variant.stickiness
    if (isObject(variant.payload)) {
      const type = String(variant.payload.type)
      if (!['string', 'json', 'csv', 'number'].includes(type)) throw new Inexpressible(`variant payload type ${JSON.stringify(type)}`)
      out.payload = { type, value: String(variant.payload.value) }
    }
    const overrides = asObjects(variant.overrides)
      .filter((override) => Array.isArray(override.values) && override.values.length > 0)
      .map((override) => ({ contextName: String(override.contextName), values: (override.values as unknown[]).map(String) }))
    if (overrides.length) out.overrides = overrides
    return { out, weight, variable: variant.weightType !== 'fix' }
  })
  const total = converted.reduce((sum, variant) => sum + variant.weight, 0)
  const names = converted.map(({ out }) => String(out.name))
  const sorted = names.every((name, index) => index === 0 || names[index - 1]!.localeCompare(name) <= 0)
  if (total !== TOTAL_VARIANT_WEIGHT || !sorted || new Set(names).size !== names.length)
    return { [key]: converted.map(({ out }) => out), variantsAsWritten: true }
  // Variable variants written without a weight, when that gives the same weights back; else every weight explicit.
  const variable = converted.map(({ out, variable: isVariable }) => (isVariable ? omitWeight(out) : out))
  const served = toClientVariants(variable.map((variant) => ({ ...variant, weight: parseWeight(variant.weight) }) as never))
  const same = served.every((variant, index) => variant.weight === converted[index]!.weight)
  return { [key]: same && converted.some((item) => item.variable) ? variable : converted.map(({ out }) => out) }
}

function omitWeight(variant: Json): Json {
  const { weight: _weight, ...rest } = variant
  return rest
}

function parseWeight(weight: unknown): number | undefined {
  return typeof weight === 'string' ? Math.round(Number(weight.replace('%', '')) * 10) : undefined
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function asObjects(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : []
}
