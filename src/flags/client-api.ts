/**
 * flags.yaml -> Unleash's client API payload (`GET /api/client/features`), per environment.
 * Pure. This wire format is also what the evaluator works on, so that server-side evaluation
 * (the frontend API) reads exactly what every SDK reads.
 */
import { createHash } from 'node:crypto'
import {
  TOTAL_VARIANT_WEIGHT,
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
  values?: string[]
  value?: string
  inverted: boolean
  caseInsensitive: boolean
}

export interface ClientVariant {
  name: string
  weight: number
  weightType: 'variable' | 'fix'
  stickiness: string
  payload?: { type: string; value: string }
  overrides?: Array<{ contextName: string; values: string[] }>
}

export interface ClientStrategy {
  name: string
  parameters: Record<string, string>
  constraints: ClientConstraint[]
  variants: ClientVariant[]
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
}

export interface ClientFeaturesResponse {
  version: 2
  features: ClientFeature[]
  query: { project: string[]; environment: string; namePrefix?: string }
  meta: { etag: string }
}

/** Every flag of the file as the SDKs of one environment see it; a flag not configured there is off. */
export function toClientFeatures(file: FlagsFile, environment: string): ClientFeature[] {
  return Object.entries(file.flags).map(([name, flag]) => toClientFeature(name, flag, environment, file.project))
}

export function toClientFeature(name: string, flag: FlagDefinition, environment: string, project = 'default'): ClientFeature {
  const config = flag.environments[environment]
  const strategies = config?.strategies.length ? config.strategies : [{ name: 'default' as const, constraints: [], variants: [] }]
  return {
    name,
    type: flag.type,
    description: flag.description,
    project,
    enabled: config?.enabled ?? false,
    stale: false,
    impressionData: flag.impressionData,
    strategies: config ? strategies.map((strategy) => toClientStrategy(strategy, name)) : [],
    variants: toClientVariants(config?.variants ?? []),
  }
}

function toClientStrategy(strategy: StrategyDefinition, flagName: string): ClientStrategy {
  const base = { constraints: strategy.constraints.map(toClientConstraint), variants: toClientVariants(strategy.variants) }
  switch (strategy.name) {
    case 'default':
      return { name: 'default', parameters: {}, ...base }
    case 'flexibleRollout':
      return {
        name: 'flexibleRollout',
        parameters: { rollout: String(strategy.rollout), stickiness: strategy.stickiness, groupId: strategy.groupId ?? flagName },
        ...base,
      }
    case 'userWithId':
      return { name: 'userWithId', parameters: { userIds: strategy.userIds.join(',') }, ...base }
    case 'remoteAddress':
      return { name: 'remoteAddress', parameters: { IPs: strategy.IPs.join(',') }, ...base }
  }
}

function toClientConstraint(constraint: Constraint): ClientConstraint {
  const values = takesSingleValue(constraint.operator) ? { value: constraint.value ?? '' } : { values: constraint.values ?? [] }
  return { contextName: constraint.contextName, operator: constraint.operator, ...values, inverted: constraint.inverted, caseInsensitive: constraint.caseInsensitive }
}

/**
 * Weights as Unleash stores them: variants with a weight keep it ("fix"), the others share the
 * rest evenly, the first ones taking the remainder, so the total is always 1000.
 */
export function toClientVariants(variants: readonly VariantDefinition[]): ClientVariant[] {
  if (variants.length === 0) return []
  const fixed = variants.reduce((sum, variant) => sum + (variant.weight ?? 0), 0)
  const variableCount = variants.filter((variant) => variant.weight === undefined).length
  const rest = Math.max(0, TOTAL_VARIANT_WEIGHT - fixed)
  const share = variableCount > 0 ? Math.floor(rest / variableCount) : 0
  let remainder = variableCount > 0 ? rest % variableCount : 0
  return variants.map((variant) => {
    let weight = variant.weight
    if (weight === undefined) {
      weight = share + (remainder > 0 ? 1 : 0)
      if (remainder > 0) remainder--
    }
    return {
      name: variant.name,
      weight,
      weightType: variant.weight === undefined ? 'variable' : 'fix',
      stickiness: variant.stickiness,
      ...(variant.payload ? { payload: variant.payload } : {}),
      ...(variant.overrides ? { overrides: variant.overrides } : {}),
    }
  })
}

/** The client API document for one environment, with its ETag (a hash of the features). */
export function clientFeaturesResponse(file: FlagsFile, environment: string, namePrefix?: string): ClientFeaturesResponse {
  const features = toClientFeatures(file, environment).filter((feature) => !namePrefix || feature.name.startsWith(namePrefix))
  const query = { project: [file.project], environment, ...(namePrefix ? { namePrefix } : {}) }
  return { version: 2, features, query, meta: { etag: etagOf({ features, query }) } }
}

/** A strong ETag of a JSON value: the same flags always give the same tag, on any server. */
export function etagOf(value: unknown): string {
  return `"${createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 27)}"`
}
