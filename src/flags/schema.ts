/**
 * flags.yaml: feature flags as code. Pure: the zod schema, the cross-field rules, and the
 * types the rest of the module works on. Strategy, constraint and variant semantics are
 * Unleash's, so that what `flags serve` sends any Unleash SDK means what it means there.
 */
import { RE2JS } from 're2js'
import { z } from 'zod'
import { closestKey } from '../core/index.js'

export const FLAG_TYPES = ['release', 'experiment', 'operational', 'kill-switch', 'permission'] as const
export type FlagType = (typeof FLAG_TYPES)[number]

export const STRATEGY_NAMES = [
  'default',
  'flexibleRollout',
  'userWithId',
  'remoteAddress',
  'gradualRolloutUserId',
  'gradualRolloutSessionId',
  'gradualRolloutRandom',
] as const
export type StrategyName = (typeof STRATEGY_NAMES)[number]

/**
 * Strategies of Unleash 3 and 4 that Unleash 5 removed. Every SDK still evaluates them, so a
 * flags.yaml carried over from such a server keeps working; `flags validate` names the
 * flexibleRollout that does the same, and `flags push` writes that one to Unleash.
 */
export const DEPRECATED_STRATEGIES: Partial<Record<StrategyName, string>> = {
  gradualRolloutUserId: 'flexibleRollout with stickiness userId',
  gradualRolloutSessionId: 'flexibleRollout with stickiness sessionId',
  gradualRolloutRandom: 'flexibleRollout with stickiness random',
}

/** Unleash's constraint operators; the ones with one `value` (the rest take `values`). */
export const CONSTRAINT_OPERATORS = [
  'IN',
  'NOT_IN',
  'STR_STARTS_WITH',
  'STR_ENDS_WITH',
  'STR_CONTAINS',
  'NUM_EQ',
  'NUM_GT',
  'NUM_GTE',
  'NUM_LT',
  'NUM_LTE',
  'DATE_AFTER',
  'DATE_BEFORE',
  'SEMVER_EQ',
  'SEMVER_GT',
  'SEMVER_GTE',
  'SEMVER_LT',
  'SEMVER_LTE',
  'REGEX',
  'IN_CIDR',
] as const
export type ConstraintOperator = (typeof CONSTRAINT_OPERATORS)[number]

/** Operators that compare against a list of values; every other one takes a single value. */
const LIST_OPERATORS = new Set<ConstraintOperator>(['IN', 'NOT_IN', 'STR_STARTS_WITH', 'STR_ENDS_WITH', 'STR_CONTAINS', 'IN_CIDR'])

export function takesSingleValue(operator: ConstraintOperator): boolean {
  return !LIST_OPERATORS.has(operator)
}

/** How an operator is written: one word. Unleash's are CONSTRAINT_OPERATORS; another is kept, never matching. */
export const OPERATOR_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,99}$/

export function isKnownOperator(operator: string): operator is ConstraintOperator {
  return (CONSTRAINT_OPERATORS as readonly string[]).includes(operator)
}

export const DEFAULT_ENVIRONMENTS = ['development', 'production']

/**
 * Unleash's rule for names it creates: they travel in its Admin API's URLs. Segment names follow
 * it; a flag name that breaks it is still served (SDKs take any name: the client specification
 * has UTF-8 ones), with a notice, and `flags push` refuses it as Unleash would.
 */
export const URL_SAFE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,99}$/
/** What flags.yaml takes: a letter or digit first, then no whitespace, slash or control character. */
export const FLAG_NAME_PATTERN = /^[\p{L}\p{N}][^\s\p{C}/\\]{0,99}$/u
export const FLAG_NAME_RULE =
  'a flag name starts with a letter or digit and has no spaces, slashes or control characters, at most 100 characters (Unleash itself creates only URL-safe names: letters, digits, ".", "_", "-", "~")'
const ENVIRONMENT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/

/** Variant weights are per mille in Unleash: 1000 is 100%. */
export const TOTAL_VARIANT_WEIGHT = 1000

const scalarText = z.union([z.string(), z.number(), z.boolean()]).transform(String)
/** Ids end up comma-separated in Unleash's strategy parameters, so a comma would split one in two. */
const listItem = scalarText.refine((value) => value.trim() !== '' && !value.includes(','), 'must be non-empty and contain no comma')

/** `25%` or 25: a whole percentage from 0 to 100, as Unleash's flexibleRollout takes it. */
const rolloutSchema = z.union([z.number(), z.string()]).transform((input, ctx) => {
  const parsed = parsePercentText(input)
  if (parsed === undefined || !Number.isInteger(parsed) || parsed < 0 || parsed > 100) {
    ctx.addIssue({ code: 'custom', message: `rollout must be a whole percentage from 0% to 100%, got ${describeInput(input)}` })
    return z.NEVER
  }
  return parsed
})

/** A variant's share: `50%` or 50 (percent, one decimal at most), stored per mille. */
const weightSchema = z.union([z.number(), z.string()]).transform((input, ctx) => {
  const parsed = parsePercentText(input)
  if (parsed === undefined || parsed < 0 || parsed > 100 || Math.abs(parsed * 10 - Math.round(parsed * 10)) > 1e-9) {
    ctx.addIssue({
      code: 'custom',
      message: `weight must be a percentage from 0% to 100% with at most one decimal, got ${describeInput(input)}`,
    })
    return z.NEVER
  }
  return Math.round(parsed * 10)
})

function parsePercentText(input: number | string): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? input : undefined
  const match = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(input)
  return match ? Number(match[1]) : undefined
}

function describeInput(input: number | string): string {
  return typeof input === 'number' ? String(input) : JSON.stringify(input)
}

const constraintSchema = z
  .strictObject({
    contextName: z.string().min(1),
    // an operator Unleash does not have is kept, with a notice: SDKs treat its constraint as never
    // matching, and data from Unleash's client API may hold one (its client specification does)
    operator: z
      .string()
      .regex(OPERATOR_PATTERN, `an operator is a word such as IN or NUM_GT (Unleash's: ${CONSTRAINT_OPERATORS.join(', ')})`),
    values: z.array(scalarText).optional(),
    value: scalarText.optional(),
    inverted: z.boolean().default(false),
    caseInsensitive: z.boolean().default(false),
  })
  .superRefine((constraint, ctx) => {
    if (!isKnownOperator(constraint.operator)) return
    if (takesSingleValue(constraint.operator)) {
      if (constraint.value === undefined)
        ctx.addIssue({ code: 'custom', path: ['value'], message: `${constraint.operator} compares with one value: give value, not values` })
      if (constraint.values !== undefined)
        ctx.addIssue({ code: 'custom', path: ['values'], message: `${constraint.operator} takes one value, not a list` })
    } else {
      // An empty list is allowed, as in Unleash: IN [] never holds, NOT_IN [] always does.
      if (constraint.values === undefined && constraint.value === undefined)
        ctx.addIssue({ code: 'custom', path: ['values'], message: `${constraint.operator} compares with a list: give values: [...]` })
      if (constraint.value !== undefined)
        ctx.addIssue({ code: 'custom', path: ['value'], message: `${constraint.operator} takes a list: give values: [...]` })
    }
    if (constraint.operator === 'DATE_AFTER' || constraint.operator === 'DATE_BEFORE') {
      if (constraint.value !== undefined && Number.isNaN(Date.parse(constraint.value))) {
        ctx.addIssue({
          code: 'custom',
          path: ['value'],
          message: `${constraint.operator} needs an ISO 8601 date, got ${JSON.stringify(constraint.value)}`,
        })
      }
    }
    if (constraint.operator.startsWith('NUM_') && constraint.value !== undefined && !Number.isFinite(Number(constraint.value))) {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: `${constraint.operator} needs a number, got ${JSON.stringify(constraint.value)}`,
      })
    }
  })

export type Constraint = z.output<typeof constraintSchema>

const payloadSchema = z
  .strictObject({
    type: z.enum(['string', 'json', 'csv', 'number']),
    value: z.unknown(),
  })
  .transform((payload, ctx) => {
    const { type, value } = payload
    if (type === 'json' && value !== null && typeof value === 'object') return { type, value: JSON.stringify(value) }
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      const text = String(value)
      if (type === 'number' && !Number.isFinite(Number(text)))
        ctx.addIssue({ code: 'custom', path: ['value'], message: `a number payload must be a number, got ${JSON.stringify(text)}` })
      if (type === 'json') {
        try {
          JSON.parse(text)
        } catch {
          ctx.addIssue({ code: 'custom', path: ['value'], message: 'a json payload must be valid JSON (or a YAML mapping)' })
        }
      }
      return { type, value: text }
    }
    ctx.addIssue({ code: 'custom', path: ['value'], message: `the payload value must be text${type === 'json' ? ' or a mapping' : ''}` })
    return z.NEVER
  })

const variantSchema = z.strictObject({
  name: z.string().min(1),
  /** Absent: the variant shares what the weighted ones leave, as Unleash's "variable" weight. */
  weight: weightSchema.optional(),
  /** Absent: the flag's default (userId, sessionId, remoteAddress), or for a strategy's variants the strategy's stickiness. */
  stickiness: z.string().min(1).optional(),
  payload: payloadSchema.optional(),
  overrides: z.array(z.strictObject({ contextName: z.string().min(1), values: z.array(scalarText).min(1) })).optional(),
})

export type VariantDefinition = z.output<typeof variantSchema>

const segmentNameSchema = z.string().min(1)

/**
 * Variants as written: weights exactly as given (no share of the rest, no normalising to 100%)
 * and in file order, the way Unleash 3 and 4 stored them and SDKs still read them. Unleash 5+
 * normalises and sorts variants, so `flags push` refuses these.
 */
const variantsAsWrittenSchema = z.boolean().default(false)

/** A strategy: its name, its own parameters, and the constraints, segments and variants every strategy takes. */
function strategy<Name extends StrategyName, Parameters extends z.core.$ZodLooseShape>(name: Name, parameters: Parameters) {
  return z.strictObject({
    name: z.literal(name),
    ...parameters,
    constraints: z.array(constraintSchema).default([]),
    /** Names of segments (top-level `segments`) whose constraints must hold too. */
    segments: z.array(segmentNameSchema).default([]),
    variants: z.array(variantSchema).default([]),
    variantsAsWritten: variantsAsWrittenSchema,
  })
}

const strategySchema = z.discriminatedUnion(
  'name',
  [
    strategy('default', {}),
    strategy('flexibleRollout', {
      rollout: rolloutSchema,
      stickiness: z.string().min(1).default('default'),
      /** Absent: the flag's name, as Unleash sets it. An empty one hashes as '' (as SDKs do with none). */
      groupId: z.string().optional(),
    }),
    strategy('userWithId', { userIds: z.array(listItem).min(1) }),
    strategy('remoteAddress', { IPs: z.array(listItem).min(1) }),
    strategy('gradualRolloutUserId', { percentage: rolloutSchema, groupId: z.string().optional() }),
    strategy('gradualRolloutSessionId', { percentage: rolloutSchema, groupId: z.string().optional() }),
    strategy('gradualRolloutRandom', { percentage: rolloutSchema }),
  ],
  {
    error: (issue) =>
      issue.code === 'invalid_union' && 'discriminator' in issue
        ? `unknown strategy ${JSON.stringify((issue.input as { name?: unknown } | undefined)?.name)} (known: ${STRATEGY_NAMES.join(', ')})`
        : undefined,
  },
)

export type StrategyDefinition = z.output<typeof strategySchema>

/** What an environment without strategies has: everyone, when enabled. */
export const DEFAULT_STRATEGY: StrategyDefinition = {
  name: 'default',
  constraints: [],
  segments: [],
  variants: [],
  variantsAsWritten: false,
}

const environmentSchema = z.strictObject({
  enabled: z.boolean(),
  /** None: on for everyone when enabled (Unleash's default strategy). */
  strategies: z.array(strategySchema).default([]),
  variants: z.array(variantSchema).default([]),
  variantsAsWritten: variantsAsWrittenSchema,
})

export type EnvironmentDefinition = z.output<typeof environmentSchema>

/**
 * A parent the flag depends on (Unleash's dependent features): the child is on only when the
 * parent is on (enabled: true, the default), optionally with one of the named variants, or
 * only when the parent is off (enabled: false).
 */
const dependencySchema = z
  .strictObject({
    feature: z.string().min(1),
    enabled: z.boolean().default(true),
    variants: z.array(z.string().min(1)).optional(),
  })
  .superRefine((dependency, ctx) => {
    if (!dependency.enabled && dependency.variants?.length)
      ctx.addIssue({ code: 'custom', path: ['variants'], message: 'variants apply only to a parent that must be on (enabled: true)' })
  })

export type Dependency = z.output<typeof dependencySchema>

/** `type:value`, or a bare value of Unleash's `simple` tag type: what SDKs filter on with `tag=type:value`. */
const tagSchema = z
  .string()
  .regex(/^[^:\s][^:]*(?::.+)?$/, 'a tag is "type:value" or a bare value (type simple)')
  .transform((text) => {
    const colon = text.indexOf(':')
    return colon < 0 ? { type: 'simple', value: text } : { type: text.slice(0, colon), value: text.slice(colon + 1) }
  })

const flagSchema = z.strictObject({
  type: z.enum(FLAG_TYPES, { error: (issue) => `unknown flag type ${JSON.stringify(issue.input)} (known: ${FLAG_TYPES.join(', ')})` }),
  description: z.string().min(1),
  owner: z.string().min(1),
  created: z.union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'created must be a date, such as 2026-01-31' }),
  impressionData: z.boolean().default(false),
  tags: z.array(tagSchema).default([]),
  /** Parents, in every environment. */
  dependencies: z.array(dependencySchema).default([]),
  environments: z.record(z.string(), environmentSchema).default({}),
})

export type FlagDefinition = z.output<typeof flagSchema>

const segmentSchema = z.strictObject({
  description: z.string().optional(),
  constraints: z.array(constraintSchema).default([]),
})

export type SegmentDefinition = z.output<typeof segmentSchema>

export const flagsFileSchema = z
  .strictObject({
    /** The environments flags may be configured in; tokens are per environment. */
    environments: z
      .array(z.string().regex(ENVIRONMENT_PATTERN, 'an environment name is letters, digits, - and _'))
      .min(1)
      .default(DEFAULT_ENVIRONMENTS),
    /** Unleash project reported to SDKs. */
    project: z.string().min(1).default('default'),
    /** Named, reusable constraint sets that strategies reference by name (Unleash's segments). */
    segments: z.record(z.string(), segmentSchema).default({}),
    /** Names are checked by the file reader, which reports a bad one at its own line. */
    flags: z.record(z.string(), flagSchema).default({}),
  })
  .superRefine((file, ctx) => {
    if (new Set(file.environments).size !== file.environments.length)
      ctx.addIssue({ code: 'custom', path: ['environments'], message: 'an environment is listed twice' })
    for (const [name, flag] of Object.entries(file.flags)) {
      for (const [environment, config] of Object.entries(flag.environments)) {
        const path = ['flags', name, 'environments', environment]
        checkVariantWeights(config.variants, config.variantsAsWritten, [...path, 'variants'], ctx)
        config.strategies.forEach((strategy, index) =>
          checkVariantWeights(strategy.variants, strategy.variantsAsWritten, [...path, 'strategies', index, 'variants'], ctx),
        )
      }
    }
  })

export type FlagsFile = z.output<typeof flagsFileSchema>

/** Flags configured in environments the file does not declare (a typo, usually): [flag, environment]. */
export function undeclaredEnvironments(file: FlagsFile): Array<[string, string]> {
  const declared = new Set(file.environments)
  return Object.entries(file.flags).flatMap(([name, flag]) =>
    Object.keys(flag.environments)
      .filter((environment) => !declared.has(environment))
      .map((environment): [string, string] => [name, environment]),
  )
}

function checkVariantWeights(
  variants: readonly VariantDefinition[],
  asWritten: boolean,
  path: Array<string | number>,
  ctx: z.RefinementCtx,
): void {
  if (variants.length === 0) return
  const fixed = variants.reduce((sum, variant) => sum + (variant.weight ?? 0), 0)
  const variable = variants.filter((variant) => variant.weight === undefined).length
  const names = new Set<string>()
  variants.forEach((variant, index) => {
    if (names.has(variant.name))
      ctx.addIssue({ code: 'custom', path: [...path, index, 'name'], message: `variant "${variant.name}" is listed twice` })
    names.add(variant.name)
  })
  if (asWritten) {
    variants.forEach((variant, index) => {
      if (variant.weight === undefined)
        ctx.addIssue({ code: 'custom', path: [...path, index, 'weight'], message: 'with variantsAsWritten every variant needs a weight' })
    })
    return
  }
  if (fixed > TOTAL_VARIANT_WEIGHT)
    ctx.addIssue({ code: 'custom', path, message: `the variant weights add up to ${fixed / 10}%, more than 100%` })
  else if (variable === 0 && fixed !== TOTAL_VARIANT_WEIGHT) {
    ctx.addIssue({
      code: 'custom',
      path,
      message: `the variant weights add up to ${fixed / 10}%: make them 100%, or leave one without a weight to take the rest`,
    })
  }
}

/** Expected lifetime by type, in days (Unleash's defaults); undefined: permanent. */
export const FLAG_LIFETIME_DAYS: Record<FlagType, number | undefined> = {
  release: 40,
  experiment: 40,
  operational: 7,
  'kill-switch': undefined,
  permission: undefined,
}

/** Something a valid file says that probably is not meant, or that Unleash itself would refuse: shown, not refused. */
export interface FlagsNotice {
  path: Array<string | number>
  message: string
}

/**
 * What SDKs evaluate in a defined way but people rarely mean: a pattern RE2 refuses (never
 * matches), a segment or parent that is not defined (the strategy, or the flag, is never on),
 * a parent with parents of its own or a cycle (never on: Unleash allows one level), deprecated
 * strategies. `flags validate` lists them (and fails on them with --strict).
 */
export function flagsFileNotices(file: FlagsFile): FlagsNotice[] {
  const notices: FlagsNotice[] = []
  const segmentNames = Object.keys(file.segments)
  const flagNames = Object.keys(file.flags)
  const checkConstraints = (constraints: readonly Constraint[], path: Array<string | number>) =>
    constraints.forEach((constraint, index) => {
      if (!isKnownOperator(constraint.operator)) {
        const guess = closestKey(constraint.operator, [...CONSTRAINT_OPERATORS])
        notices.push({
          path: [...path, index, 'operator'],
          message: `operator "${constraint.operator}" is not one of Unleash's: SDKs treat this constraint as never matching, inverted or not${guess ? ` (did you mean "${guess}"?)` : ''}`,
        })
      }
      if (constraint.operator !== 'REGEX' || constraint.value === undefined) return
      const problem = regexProblem(constraint.value)
      if (problem) notices.push({ path: [...path, index, 'value'], message: `never matches: RE2 refuses this pattern (${problem})` })
    })
  for (const [name, segment] of Object.entries(file.segments)) checkConstraints(segment.constraints, ['segments', name, 'constraints'])
  for (const [name, flag] of Object.entries(file.flags)) {
    if (!URL_SAFE_NAME_PATTERN.test(name))
      notices.push({
        path: ['flags', name],
        message: `"${name}" is not URL-safe: flags serve and SDKs take it, Unleash does not (flags push refuses it)`,
      })
    flag.dependencies.forEach((dependency, index) => {
      const path = ['flags', name, 'dependencies', index, 'feature']
      const parent = file.flags[dependency.feature]
      if (dependency.feature === name) notices.push({ path, message: `${name} depends on itself: SDKs never turn it on` })
      else if (!parent) {
        const guess = closestKey(dependency.feature, flagNames)
        notices.push({
          path,
          message: `parent "${dependency.feature}" is not defined: SDKs never turn ${name} on${guess ? ` (did you mean "${guess}"?)` : ''}`,
        })
      } else if (parent.dependencies.length > 0)
        notices.push({
          path,
          message: `parent "${dependency.feature}" has parents of its own: SDKs never turn ${name} on (Unleash allows one level of dependencies)`,
        })
    })
    for (const [environment, config] of Object.entries(flag.environments)) {
      config.strategies.forEach((strategy, index) => {
        const path = ['flags', name, 'environments', environment, 'strategies', index]
        checkConstraints(strategy.constraints, [...path, 'constraints'])
        strategy.segments.forEach((segment, position) => {
          if (file.segments[segment]) return
          const guess = closestKey(segment, segmentNames)
          notices.push({
            path: [...path, 'segments', position],
            message: `segment "${segment}" is not defined: this strategy never matches${guess ? ` (did you mean "${guess}"?)` : ''}`,
          })
        })
        const replacement = DEPRECATED_STRATEGIES[strategy.name]
        if (replacement)
          notices.push({
            path: [...path, 'name'],
            message: `${strategy.name} is deprecated (Unleash 5 removed it): ${replacement}${'groupId' in strategy ? ` and groupId ${JSON.stringify(strategy.groupId ?? '')}` : ''} does the same`,
          })
      })
    }
  }
  return notices
}

/** Why RE2 (the engine Unleash's SDKs use) refuses a pattern, or undefined when it compiles. */
export function regexProblem(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern)
    return undefined
  } catch (error) {
    return (error as Error).message.replace(/^error parsing regexp: /, '')
  }
}
