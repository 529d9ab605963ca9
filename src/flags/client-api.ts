/**
 * flags.yaml -> Unleash's client API payload (`GET /api/client/features`, `/api/client/delta`),
 * per environment, shaped as an Unleash server sends it: constraints always carry `values` (older
 * SDKs read only that), variants are normalised to 1000 and sorted by name, segments are listed
 * once and referenced by id (or inlined for SDKs that predate segments), dependencies are served
 * with the child. Pure. This wire format is also what the evaluator works on, so that
 * server-side evaluation (the frontend API) reads exactly what every SDK reads.
 */
import { createHash } from 'node:crypto'
import {
  DEFAULT_STRATEGY,
  TOTAL_VARIANT_WEIGHT,
  isKnownOperator,
  takesSingleValue,
  type Constraint,
  type FlagDefinition,
  type FlagsFile,
  type StrategyDefinition,
  type VariantDefinition,
} from './schema.js'

export interface ClientConstraint {
  contextName: string
  operator: string
  /** Always present (empty for single-value operators), as Unleash sends it for older SDKs. */
  values: string[]
  value?: string
  inverted: boolean
  caseInsensitive: boolean
}

export interface ClientVariant {
  name: string
  weight: number
  weightType: 'variable' | 'fix'
  /** Absent: the SDK's default, or for a strategy's variants the strategy's stickiness. */
  stickiness?: string
  payload?: { type: string; value: string }
  overrides?: Array<{ contextName: string; values: string[] }>
}

export interface ClientStrategy {
  name: string
  parameters: Record<string, string>
  constraints: ClientConstraint[]
  variants: ClientVariant[]
  /** Ids of the response's `segments` whose constraints must hold too. */
  segments?: number[]
}

export interface ClientDependency {
  feature: string
  enabled: boolean
  variants?: string[]
}

export interface ClientFeature {
  name: string
  type: string
  description: string
  project: string
  enabled: boolean
  stale: boolean
  impressionData: boolean
  strategies: ClientStrategy[]
  variants: ClientVariant[]
  dependencies?: ClientDependency[]
}

export interface ClientSegment {
  id: number
  name: string
  constraints: ClientConstraint[]
}

export interface ClientQuery {
  /** Only flags of these projects (the file has one: any other asks for nothing). */
  project?: string[] | undefined
  /** Only flags with one of these tags, `type:value`. */
  tag?: string[] | undefined
  namePrefix?: string | undefined
  /**
   * SDKs that announce client spec 4.2.0 or later (`Unleash-Client-Spec`) read segments by id;
   * older ones get the segments' constraints inlined into each strategy, as Unleash does.
   */
  inlineSegments?: boolean | undefined
}

export interface ClientFeaturesResponse {
  version: 2
  features: ClientFeature[]
  segments?: ClientSegment[]
  query: { project?: string[]; environment: string; namePrefix?: string; tag?: string[][]; inlineSegmentConstraints?: boolean }
  meta: { etag: string; revisionId: number; queryHash: string }
}

/** Delta API: one hydration event with everything (the SDK replaces what it had), as Unleash sends a new client. */
export interface ClientDeltaResponse {
  events: Array<{ eventId: number; type: 'hydration'; features: ClientFeature[]; segments: ClientSegment[] }>
}

/**
 * Segment ids: defined segments 1..n in file order; then, for each name strategies reference
 * but nobody defines, an id no segment has, which SDKs resolve to "missing": the strategy never
 * matches, as an SDK treats a segment it was not sent.
 */
export function segmentIds(file: FlagsFile): Map<string, number> {
  const ids = new Map(Object.keys(file.segments).map((name, index) => [name, index + 1]))
  for (const flag of Object.values(file.flags))
    for (const config of Object.values(flag.environments))
      for (const strategy of config.strategies)
        for (const segment of strategy.segments) if (!ids.has(segment)) ids.set(segment, ids.size + 1)
  return ids
}

export function toClientSegments(file: FlagsFile): ClientSegment[] {
  const ids = segmentIds(file)
  return Object.entries(file.segments).map(([name, segment]) => ({
    id: ids.get(name)!,
    name,
    constraints: segment.constraints.map(toClientConstraint),
  }))
}

/** Every flag of the file as the SDKs of one environment see it; a flag not configured there is off. */
export function toClientFeatures(file: FlagsFile, environment: string, options: { inlineSegments?: boolean } = {}): ClientFeature[] {
  const ids = segmentIds(file)
  const resolveSegments = options.inlineSegments ? (names: readonly string[]) => inlineSegmentConstraints(file, names) : undefined
  return Object.entries(file.flags).map(([name, flag]) =>
    toClientFeature(name, flag, environment, file.project, { segmentIds: ids, ...(resolveSegments ? { resolveSegments } : {}) }),
  )
}

/** A missing segment inlined: a constraint that never holds (IN of no values), so the strategy never matches, as by id. */
function inlineSegmentConstraints(file: FlagsFile, names: readonly string[]): ClientConstraint[] {
  return names.flatMap((name) => {
    const segment = file.segments[name]
    if (!segment) return [{ contextName: `segment:${name}`, operator: 'IN', values: [], inverted: false, caseInsensitive: false }]
    return segment.constraints.map(toClientConstraint)
  })
}

interface FeatureOptions {
  segmentIds?: ReadonlyMap<string, number>
  /** Inline the constraints of these segments instead of referencing them by id. */
  resolveSegments?: (names: readonly string[]) => ClientConstraint[]
}

export function toClientFeature(
  name: string,
  flag: FlagDefinition,
  environment: string,
  project = 'default',
  options: FeatureOptions = {},
): ClientFeature {
  const config = flag.environments[environment]
  const strategies: StrategyDefinition[] = config?.strategies.length ? config.strategies : [DEFAULT_STRATEGY]
  const feature: ClientFeature = {
    name,
    type: flag.type,
    description: flag.description,
    project,
    enabled: config?.enabled ?? false,
    stale: false,
    impressionData: flag.impressionData,
    strategies: config ? strategies.map((strategy) => toClientStrategy(strategy, name, options)) : [],
    variants: toClientVariants(config?.variants ?? [], config?.variantsAsWritten),
  }
  if (flag.dependencies.length > 0) {
    feature.dependencies = flag.dependencies.map((dependency) => ({
      feature: dependency.feature,
      enabled: dependency.enabled,
      ...(dependency.enabled ? { variants: dependency.variants ?? [] } : {}),
    }))
  }
  return feature
}

function toClientStrategy(strategy: StrategyDefinition, flagName: string, options: FeatureOptions): ClientStrategy {
  const constraints = strategy.constraints.map(toClientConstraint)
  const base: Omit<ClientStrategy, 'name' | 'parameters'> = {
    constraints: options.resolveSegments ? [...constraints, ...options.resolveSegments(strategy.segments)] : constraints,
    variants: toClientVariants(strategy.variants, strategy.variantsAsWritten),
  }
  if (!options.resolveSegments && strategy.segments.length > 0)
    base.segments = strategy.segments.map((name) => options.segmentIds?.get(name) ?? 0)
  return { name: strategy.name, parameters: strategyParameters(strategy, flagName), ...base }
}

/** A strategy's parameters as Unleash stores them: strings, lists comma-separated. */
export function strategyParameters(strategy: StrategyDefinition, flagName: string): Record<string, string> {
  switch (strategy.name) {
    case 'default':
      return {}
    case 'flexibleRollout':
      return { rollout: String(strategy.rollout), stickiness: strategy.stickiness, groupId: strategy.groupId ?? flagName }
    case 'userWithId':
      return { userIds: strategy.userIds.join(',') }
    case 'remoteAddress':
      return { IPs: strategy.IPs.join(',') }
    case 'gradualRolloutUserId':
    case 'gradualRolloutSessionId':
      return { percentage: String(strategy.percentage), ...(strategy.groupId === undefined ? {} : { groupId: strategy.groupId }) }
    case 'gradualRolloutRandom':
      return { percentage: String(strategy.percentage) }
  }
}

export function toClientConstraint(constraint: Constraint): ClientConstraint {
  // an operator Unleash does not have goes out as written: SDKs read it as never matching
  const single = isKnownOperator(constraint.operator) ? takesSingleValue(constraint.operator) : constraint.value !== undefined
  return {
    contextName: constraint.contextName,
    operator: constraint.operator,
    values: single ? [] : (constraint.values ?? []),
    ...(single ? { value: constraint.value ?? '' } : {}),
    inverted: constraint.inverted,
    caseInsensitive: constraint.caseInsensitive,
  }
}

/**
 * Variants as Unleash stores them: variants with a weight keep it ("fix"), the others share the
 * rest of 1000 evenly, the first of them (in file order) taking the remainder; then sorted by
 * name, as Unleash sorts them: the bucket a user falls in depends on that order. With
 * `asWritten`, the weights and the order are the file's (Unleash 3/4 data).
 */
export function toClientVariants(variants: readonly VariantDefinition[], asWritten = false): ClientVariant[] {
  if (variants.length === 0) return []
  const fixed = variants.reduce((sum, variant) => sum + (variant.weight ?? 0), 0)
  const variableCount = variants.filter((variant) => variant.weight === undefined).length
  const rest = Math.max(0, TOTAL_VARIANT_WEIGHT - fixed)
  const share = variableCount > 0 ? Math.floor(rest / variableCount) : 0
  let remainder = variableCount > 0 ? rest % variableCount : 0
  const served = variants.map((variant): ClientVariant => {
    let weight = variant.weight
    if (weight === undefined) {
      weight = share + (remainder > 0 ? 1 : 0)
      if (remainder > 0) remainder--
    }
    return {
      name: variant.name,
      weight,
      weightType: variant.weight === undefined ? 'variable' : 'fix',
      ...(variant.stickiness ? { stickiness: variant.stickiness } : {}),
      ...(variant.payload ? { payload: variant.payload } : {}),
      ...(variant.overrides ? { overrides: variant.overrides } : {}),
    }
  })
  return asWritten ? served : served.sort((a, b) => a.name.localeCompare(b.name))
}

/** Flags matching the SDK's query filters: project, tags (any of them) and name prefix, as Unleash filters them. */
export function selectFlags(file: FlagsFile, query: ClientQuery): FlagsFile {
  if (query.project?.length && !query.project.includes('*') && !query.project.includes(file.project)) return { ...file, flags: {} }
  const tags = (query.tag ?? []).map(parseTagFilter)
  const flags = Object.fromEntries(
    Object.entries(file.flags).filter(
      ([name, flag]) =>
        (!query.namePrefix || name.startsWith(query.namePrefix)) &&
        (tags.length === 0 || flag.tags.some((tag) => tags.some((wanted) => wanted.type === tag.type && wanted.value === tag.value))),
    ),
  )
  return { ...file, flags }
}

function parseTagFilter(text: string): { type: string; value: string } {
  const colon = text.indexOf(':')
  return colon < 0 ? { type: 'simple', value: text } : { type: text.slice(0, colon), value: text.slice(colon + 1) }
}

/** The client API document for one environment and query, with its ETag (a hash of what it serves). */
export function clientFeaturesResponse(
  file: FlagsFile,
  environment: string,
  query: ClientQuery = {},
  revisionId = 0,
): ClientFeaturesResponse {
  const selected = selectFlags(file, query)
  const features = toClientFeatures(selected, environment, { inlineSegments: query.inlineSegments ?? false })
  const echoed = {
    ...(query.project?.length ? { project: query.project } : {}),
    environment,
    ...(query.namePrefix ? { namePrefix: query.namePrefix } : {}),
    ...(query.tag?.length ? { tag: query.tag.map((tag) => tag.split(':')) } : {}),
    ...(query.inlineSegments ? { inlineSegmentConstraints: true } : {}),
  }
  const segments = query.inlineSegments ? undefined : toClientSegments(file)
  const queryHash = createHash('sha256').update(JSON.stringify(echoed)).digest('hex').slice(0, 16)
  const etag = etagOf({ features, segments, query: echoed })
  return { version: 2, features, ...(segments ? { segments } : {}), query: echoed, meta: { etag, revisionId, queryHash } }
}

/** The delta API's answer for a new (or out-of-date) SDK: everything, as one hydration event. */
export function clientDeltaResponse(file: FlagsFile, environment: string, query: ClientQuery, revisionId: number): ClientDeltaResponse {
  const selected = selectFlags(file, query)
  return {
    events: [
      { eventId: revisionId, type: 'hydration', features: toClientFeatures(selected, environment), segments: toClientSegments(file) },
    ],
  }
}

/** A strong ETag of a JSON value: the same flags always give the same tag, on any server. */
export function etagOf(value: unknown): string {
  return `"${createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 27)}"`
}
