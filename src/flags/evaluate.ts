/**
 * Flag evaluation, as Unleash's Node SDK (unleash-client 6) does it, over the client API wire
 * format. Pure: the time and the random source are passed in. Used by the frontend API, which
 * evaluates server-side for browser SDKs, and by tests that pin the SDK's behaviour.
 */
import { isInRange, parseAddress, parseIPv4 } from './addresses.js'
import { RE2JS } from 're2js'
import type { ClientConstraint, ClientFeature, ClientSegment, ClientStrategy, ClientVariant } from './client-api.js'
import { STRATEGY_SEED, VARIANT_SEED, normalizedValue } from './murmur.js'
import { compareSemVer, parseSemVer } from './semver.js'

/** Unleash's context: the standard fields and free-form properties. */
export interface EvaluationContext {
  userId?: string
  sessionId?: string
  remoteAddress?: string
  environment?: string
  appName?: string
  currentTime?: string | Date
  properties?: Record<string, string | undefined>
}

export interface EvaluationOptions {
  /** "Now" for DATE_* operators when the context has no currentTime. */
  now: Date
  /** In [0, 1): stands in for Math.random where the SDK rolls the dice (no stickiness id). */
  random: () => number
  /** The other flags of the environment, for dependencies (a parent not here is missing). */
  features?: ReadonlyMap<string, ClientFeature>
  /** Segments by id, for strategies that reference them (an id not here is a missing segment). */
  segments?: ReadonlyMap<number, ClientSegment>
}

export interface VariantResult {
  name: string
  enabled: boolean
  payload?: { type: string; value: string }
  feature_enabled: boolean
}

export interface Evaluation {
  enabled: boolean
  variant: VariantResult
}

export const DISABLED_VARIANT_NAME = 'disabled'

/** Whether the feature is on for the context, and the variant the SDK's getVariant would give. */
export function evaluateFeature(feature: ClientFeature | undefined, context: EvaluationContext, options: EvaluationOptions): Evaluation {
  const off = (featureEnabled: boolean): Evaluation => ({
    enabled: featureEnabled,
    variant: { name: DISABLED_VARIANT_NAME, enabled: false, feature_enabled: featureEnabled },
  })
  if (!feature) return off(false)
  const result = featureResult(feature, context, options)
  if (!result.enabled) return off(false)
  if (result.variant) return { enabled: true, variant: { ...result.variant, feature_enabled: true } }
  const variant = selectVariantDefinition(feature.name, feature.variants[0]?.stickiness, feature.variants, context, options)
  if (!variant) return off(true)
  return {
    enabled: true,
    variant: { name: variant.name, enabled: true, ...(variant.payload ? { payload: variant.payload } : {}), feature_enabled: true },
  }
}

interface StrategyOutcome {
  enabled: boolean
  variant?: { name: string; enabled: true; payload?: { type: string; value: string } }
}

/** The SDK's isFeatureEnabled: parents first, then the switch, then the first strategy that holds. */
function featureResult(feature: ClientFeature, context: EvaluationContext, options: EvaluationOptions): StrategyOutcome {
  if (!parentsSatisfied(feature, context, options) || !feature.enabled) return { enabled: false }
  if (feature.strategies.length === 0) return { enabled: feature.enabled }
  for (const strategy of feature.strategies) {
    if (!KNOWN_STRATEGIES.has(strategy.name)) continue // an SDK without the strategy treats it as off
    const enabled = constraintsHold(strategyConstraints(strategy, options), context, options) && strategyEnabled(strategy, context, options)
    if (!enabled) continue
    if (strategy.variants.length > 0) {
      const stickiness = strategy.variants[0]?.stickiness || strategy.parameters.stickiness
      // The SDK hashes strategy variants with the strategy's groupId parameter, even when there is none.
      const variant = selectVariantDefinition(String(strategy.parameters.groupId), stickiness, strategy.variants, context, options)
      if (variant)
        return { enabled: true, variant: { name: variant.name, enabled: true, ...(variant.payload ? { payload: variant.payload } : {}) } }
    }
    return { enabled: true }
  }
  return { enabled: false }
}

/**
 * Dependent features as the SDK resolves them: a missing parent, or a parent with parents of
 * its own (a chain, or a cycle), is never satisfied; otherwise the parent must be on (with one
 * of the named variants, when there are any) or, with enabled: false, off.
 */
function parentsSatisfied(feature: ClientFeature, context: EvaluationContext, options: EvaluationOptions): boolean {
  if (!feature.dependencies?.length) return true
  return feature.dependencies.every((dependency) => {
    const parent = options.features?.get(dependency.feature)
    if (!parent || parent.dependencies?.length) return false
    if (dependency.enabled === false) return !featureResult(parent, context, options).enabled
    if (dependency.variants?.length) {
      const { variant } = evaluateFeature(parent, context, options)
      return variant.feature_enabled && dependency.variants.includes(variant.name)
    }
    return featureResult(parent, context, options).enabled
  })
}

/** The strategy's constraints, then those of its segments; a missing segment is a constraint that never holds. */
function strategyConstraints(strategy: ClientStrategy, options: EvaluationOptions): Array<ClientConstraint | undefined> {
  if (!strategy.segments?.length) return strategy.constraints
  const fromSegments = strategy.segments.flatMap((id): Array<ClientConstraint | undefined> => {
    const segment = options.segments?.get(id)
    return segment ? segment.constraints : [undefined]
  })
  return [...strategy.constraints, ...fromSegments]
}

const KNOWN_STRATEGIES = new Set([
  'default',
  'flexibleRollout',
  'userWithId',
  'remoteAddress',
  'gradualRolloutUserId',
  'gradualRolloutSessionId',
  'gradualRolloutRandom',
])

function strategyEnabled(strategy: ClientStrategy, context: EvaluationContext, options: EvaluationOptions): boolean {
  const parameters = strategy.parameters
  switch (strategy.name) {
    case 'default':
      return true
    case 'flexibleRollout': {
      // The SDK falls back to context.featureToggle, which it never sets: an empty groupId hashes as ''.
      const groupId = parameters.groupId || ''
      const percentage = Number(parameters.rollout)
      const stickiness = parameters.stickiness || 'default'
      const id = stickinessId(stickiness, context, options)
      if (!id) return false
      return percentage > 0 && normalizedValue(id, groupId, 100, STRATEGY_SEED) <= percentage
    }
    case 'gradualRolloutUserId':
    case 'gradualRolloutSessionId': {
      const id = strategy.name === 'gradualRolloutUserId' ? context.userId : context.sessionId
      if (!id) return false
      const percentage = Number(parameters.percentage)
      return percentage > 0 && normalizedValue(id, parameters.groupId || '', 100, STRATEGY_SEED) <= percentage
    }
    case 'gradualRolloutRandom':
      return Number(parameters.percentage) >= Math.floor(options.random() * 100) + 1
    case 'userWithId': {
      const ids = parameters.userIds ? parameters.userIds.split(/\s*,\s*/) : []
      return context.userId !== undefined && ids.includes(context.userId)
    }
    case 'remoteAddress': {
      if (!parameters.IPs) return false
      return parameters.IPs.split(/\s*,\s*/).some((range) => {
        if (range === context.remoteAddress) return true
        // The SDK compares IPv4 only here; an IPv6 range matches only the identical string.
        const subnet = parseIPv4(range)
        const address = parseIPv4(context.remoteAddress ?? '')
        return subnet !== undefined && address !== undefined && isInRange(address, subnet)
      })
    }
    default:
      return false
  }
}

function stickinessId(stickiness: string, context: EvaluationContext, options: EvaluationOptions): string | undefined {
  if (stickiness === 'default') return context.userId || context.sessionId || randomRolloutId(options)
  if (stickiness === 'random') return randomRolloutId(options)
  return resolveContextValue(context, stickiness)
}

function randomRolloutId(options: EvaluationOptions): string {
  return `${Math.round(options.random() * 10000) + 1}`
}

/** `context[field]`, else `context.properties[field]`, as a string. */
export function resolveContextValue(context: EvaluationContext, field: string): string | undefined {
  const value = (context as Record<string, unknown>)[field] ?? context.properties?.[field]
  return value === undefined || value === null ? undefined : String(value)
}

// --- variants ------------------------------------------------------------------------------

const VARIANT_STICKINESS_FIELDS = ['userId', 'sessionId', 'remoteAddress'] as const

function variantSeed(context: EvaluationContext, stickiness: string | undefined, options: EvaluationOptions): string {
  if (stickiness && stickiness !== 'default') return resolveContextValue(context, stickiness) || randomVariantSeed(options)
  for (const field of VARIANT_STICKINESS_FIELDS) {
    const value = context[field]
    if (typeof value === 'string' && value !== '') return value
  }
  return randomVariantSeed(options)
}

function randomVariantSeed(options: EvaluationOptions): string {
  return String(Math.round(options.random() * 100000))
}

export function selectVariantDefinition(
  groupId: string,
  stickiness: string | undefined,
  variants: readonly ClientVariant[],
  context: EvaluationContext,
  options: EvaluationOptions,
): ClientVariant | undefined {
  const totalWeight = variants.reduce((sum, variant) => sum + variant.weight, 0)
  if (totalWeight <= 0) return undefined
  const override = variants.find((variant) =>
    variant.overrides?.some((o) => o.values.some((value) => value === resolveContextValue(context, o.contextName))),
  )
  if (override) return override
  const target = normalizedValue(variantSeed(context, stickiness, options), groupId, totalWeight, VARIANT_SEED)
  let counter = 0
  for (const variant of variants) {
    if (variant.weight === 0) continue
    counter += variant.weight
    if (counter >= target) return variant
  }
  return undefined
}

// --- constraints ---------------------------------------------------------------------------

export function constraintsHold(
  constraints: ReadonlyArray<ClientConstraint | undefined>,
  context: EvaluationContext,
  options: EvaluationOptions,
): boolean {
  return constraints.every((constraint) => {
    if (!constraint) return false
    const operator = OPERATORS[constraint.operator]
    if (!operator) return false
    const result = operator(constraint, context, options)
    return constraint.inverted ? !result : result
  })
}

type Operator = (constraint: ClientConstraint, context: EvaluationContext, options: EvaluationOptions) => boolean

const cleanValues = (values: readonly string[] | undefined) => (values ?? []).filter((value) => !!value).map((value) => value.trim())

const inOperator: Operator = (constraint, context) => {
  const contextValue = resolveContextValue(context, constraint.contextName)
  const isIn = cleanValues(constraint.values).some((value) => value === contextValue)
  return constraint.operator === 'IN' ? isIn : !isIn
}

const stringOperator: Operator = (constraint, context) => {
  let values = cleanValues(constraint.values)
  let contextValue = resolveContextValue(context, constraint.contextName)
  if (constraint.caseInsensitive) {
    values = values.map((value) => value.toLocaleLowerCase())
    contextValue = contextValue?.toLocaleLowerCase()
  }
  if (typeof contextValue !== 'string') return false
  const text = contextValue
  if (constraint.operator === 'STR_STARTS_WITH') return values.some((value) => text.startsWith(value))
  if (constraint.operator === 'STR_ENDS_WITH') return values.some((value) => text.endsWith(value))
  return values.some((value) => text.includes(value))
}

const numberOperator: Operator = (constraint, context) => {
  const value = Number(constraint.value)
  const contextValue = Number(resolveContextValue(context, constraint.contextName))
  if (Number.isNaN(value) || Number.isNaN(contextValue)) return false
  switch (constraint.operator) {
    case 'NUM_EQ':
      return contextValue === value
    case 'NUM_GT':
      return contextValue > value
    case 'NUM_GTE':
      return contextValue >= value
    case 'NUM_LT':
      return contextValue < value
    default:
      return contextValue <= value
  }
}

const dateOperator: Operator = (constraint, context, options) => {
  const value = new Date(constraint.value ?? '')
  const now = context.currentTime ? new Date(context.currentTime) : options.now
  return constraint.operator === 'DATE_AFTER' ? now > value : now < value
}

const semverOperator: Operator = (constraint, context) => {
  const contextValue = resolveContextValue(context, constraint.contextName)
  if (!contextValue || contextValue.startsWith('v')) return false
  const version = parseSemVer(contextValue)
  const target = parseSemVer(constraint.value ?? '')
  if (!version || !target) return false
  const order = compareSemVer(version, target)
  switch (constraint.operator) {
    case 'SEMVER_EQ':
      return order === 0
    case 'SEMVER_GT':
      return order > 0
    case 'SEMVER_GTE':
      return order >= 0
    case 'SEMVER_LT':
      return order < 0
    default:
      return order <= 0
  }
}

/**
 * RE2, as Unleash's SDKs evaluate REGEX (re2js, the engine the Node SDK uses): POSIX classes and
 * inline flags work, lookarounds and backreferences do not compile, and a pattern that does not
 * compile never matches. Compiled patterns are kept, as SDKs evaluate the same few again and again.
 */
const regexOperator: Operator = (constraint, context) => {
  const contextValue = resolveContextValue(context, constraint.contextName)
  if (typeof contextValue !== 'string') return false
  const regex = compiledRegex(constraint.value ?? '', constraint.caseInsensitive)
  return regex ? regex.matcher(contextValue).find() : false
}

const regexCache = new Map<string, RE2JS | null>()

function compiledRegex(pattern: string, caseInsensitive: boolean): RE2JS | undefined {
  const key = `${caseInsensitive ? 1 : 0}:${pattern}`
  let regex = regexCache.get(key)
  if (regex === undefined) {
    try {
      regex = RE2JS.compile(pattern, caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0)
    } catch {
      regex = null
    }
    if (regexCache.size >= 256) regexCache.delete(regexCache.keys().next().value!)
    regexCache.set(key, regex)
  }
  return regex ?? undefined
}

const cidrOperator: Operator = (constraint, context) => {
  const contextValue = resolveContextValue(context, constraint.contextName)
  if (typeof contextValue !== 'string') return false
  const address = parseAddress(contextValue)
  if (!address) return false
  return cleanValues(constraint.values).some((range) => {
    const parsed = parseAddress(range)
    return parsed !== undefined && isInRange(address, parsed)
  })
}

const OPERATORS: Record<string, Operator | undefined> = {
  IN: inOperator,
  NOT_IN: inOperator,
  STR_STARTS_WITH: stringOperator,
  STR_ENDS_WITH: stringOperator,
  STR_CONTAINS: stringOperator,
  NUM_EQ: numberOperator,
  NUM_GT: numberOperator,
  NUM_GTE: numberOperator,
  NUM_LT: numberOperator,
  NUM_LTE: numberOperator,
  DATE_AFTER: dateOperator,
  DATE_BEFORE: dateOperator,
  SEMVER_EQ: semverOperator,
  SEMVER_GT: semverOperator,
  SEMVER_GTE: semverOperator,
  SEMVER_LT: semverOperator,
  SEMVER_LTE: semverOperator,
  REGEX: regexOperator,
  IN_CIDR: cidrOperator,
}
