/**
 * flags.yaml: feature flags as code. Pure: the zod schema, the cross-field rules, and the
 * types the rest of the module works on. Strategy, constraint and variant semantics are
 * Unleash's, so that what `flags serve` sends any Unleash SDK means what it means there.
 */
import { z } from 'zod'

export const FLAG_TYPES = ['release', 'experiment', 'operational', 'kill-switch', 'permission'] as const
export type FlagType = (typeof FLAG_TYPES)[number]

export const STRATEGY_NAMES = ['default', 'flexibleRollout', 'userWithId', 'remoteAddress'] as const
export type StrategyName = (typeof STRATEGY_NAMES)[number]

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

export const DEFAULT_ENVIRONMENTS = ['development', 'production']

/** Unleash's rule: names travel in URLs, so no spaces or slashes. */
export const FLAG_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,99}$/
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
    ctx.addIssue({ code: 'custom', message: `weight must be a percentage from 0% to 100% with at most one decimal, got ${describeInput(input)}` })
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
    operator: z.enum(CONSTRAINT_OPERATORS, { error: (issue) => `unknown operator ${JSON.stringify(issue.input)} (Unleash's operators: ${CONSTRAINT_OPERATORS.join(', ')})` }),
    values: z.array(scalarText).optional(),
    value: scalarText.optional(),
    inverted: z.boolean().default(false),
    caseInsensitive: z.boolean().default(false),
  })
  .superRefine((constraint, ctx) => {
    if (takesSingleValue(constraint.operator)) {
      if (constraint.value === undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: `${constraint.operator} compares with one value: give value, not values` })
      if (constraint.values !== undefined) ctx.addIssue({ code: 'custom', path: ['values'], message: `${constraint.operator} takes one value, not a list` })
    } else {
      if (constraint.values === undefined || constraint.values.length === 0) ctx.addIssue({ code: 'custom', path: ['values'], message: `${constraint.operator} needs a list of values` })
      if (constraint.value !== undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: `${constraint.operator} takes a list: give values: [...]` })
    }
    if (constraint.operator === 'DATE_AFTER' || constraint.operator === 'DATE_BEFORE') {
      if (constraint.value !== undefined && Number.isNaN(Date.parse(constraint.value))) {
        ctx.addIssue({ code: 'custom', path: ['value'], message: `${constraint.operator} needs an ISO 8601 date, got ${JSON.stringify(constraint.value)}` })
      }
    }
    if (constraint.operator.startsWith('NUM_') && constraint.value !== undefined && !Number.isFinite(Number(constraint.value))) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `${constraint.operator} needs a number, got ${JSON.stringify(constraint.value)}` })
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
      if (type === 'number' && !Number.isFinite(Number(text))) ctx.addIssue({ code: 'custom', path: ['value'], message: `a number payload must be a number, got ${JSON.stringify(text)}` })
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
  stickiness: z.string().min(1).default('default'),
  payload: payloadSchema.optional(),
  overrides: z.array(z.strictObject({ contextName: z.string().min(1), values: z.array(scalarText).min(1) })).optional(),
})

export type VariantDefinition = z.output<typeof variantSchema>

/** A strategy: its name, its own parameters, and the constraints and variants every strategy takes. */
function strategy<Name extends StrategyName, Parameters extends z.core.$ZodLooseShape>(name: Name, parameters: Parameters) {
  return z.strictObject({
    name: z.literal(name),
    ...parameters,
    constraints: z.array(constraintSchema).default([]),
    variants: z.array(variantSchema).default([]),
  })
}

const strategySchema = z.discriminatedUnion(
  'name',
  [
    strategy('default', {}),
    strategy('flexibleRollout', {
      rollout: rolloutSchema,
      stickiness: z.string().min(1).default('default'),
      /** Absent: the flag's name, as in Unleash. */
      groupId: z.string().min(1).optional(),
    }),
    strategy('userWithId', { userIds: z.array(listItem).min(1) }),
    strategy('remoteAddress', { IPs: z.array(listItem).min(1) }),
  ],
  {
    error: (issue) =>
      issue.code === 'invalid_union' && 'discriminator' in issue
        ? `unknown strategy ${JSON.stringify((issue.input as { name?: unknown } | undefined)?.name)} (known: ${STRATEGY_NAMES.join(', ')})`
        : undefined,
  },
)

export type StrategyDefinition = z.output<typeof strategySchema>

const environmentSchema = z.strictObject({
  enabled: z.boolean(),
  /** None: on for everyone when enabled (Unleash's default strategy). */
  strategies: z.array(strategySchema).default([]),
  variants: z.array(variantSchema).default([]),
})

export type EnvironmentDefinition = z.output<typeof environmentSchema>

const flagSchema = z.strictObject({
  type: z.enum(FLAG_TYPES, { error: (issue) => `unknown flag type ${JSON.stringify(issue.input)} (known: ${FLAG_TYPES.join(', ')})` }),
  description: z.string().min(1),
  owner: z.string().min(1),
  created: z.union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'created must be a date, such as 2026-01-31' }),
  impressionData: z.boolean().default(false),
  environments: z.record(z.string(), environmentSchema).default({}),
})

export type FlagDefinition = z.output<typeof flagSchema>

export const flagsFileSchema = z
  .strictObject({
    /** The environments flags may be configured in; tokens are per environment. */
    environments: z.array(z.string().regex(ENVIRONMENT_PATTERN, 'an environment name is letters, digits, - and _')).min(1).default(DEFAULT_ENVIRONMENTS),
    /** Unleash project reported to SDKs. */
    project: z.string().min(1).default('default'),
    flags: z.record(z.string().regex(FLAG_NAME_PATTERN, 'a flag name is letters, digits, ".", "_", "-" and "~", at most 100 characters'), flagSchema).default({}),
  })
  .superRefine((file, ctx) => {
    if (new Set(file.environments).size !== file.environments.length) ctx.addIssue({ code: 'custom', path: ['environments'], message: 'an environment is listed twice' })
    for (const [name, flag] of Object.entries(file.flags)) {
      for (const [environment, config] of Object.entries(flag.environments)) {
        const path = ['flags', name, 'environments', environment]
        checkVariantWeights(config.variants, [...path, 'variants'], ctx)
        config.strategies.forEach((strategy, index) => checkVariantWeights(strategy.variants, [...path, 'strategies', index, 'variants'], ctx))
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

function checkVariantWeights(variants: readonly VariantDefinition[], path: Array<string | number>, ctx: z.RefinementCtx): void {
  if (variants.length === 0) return
  const fixed = variants.reduce((sum, variant) => sum + (variant.weight ?? 0), 0)
  const variable = variants.filter((variant) => variant.weight === undefined).length
  const names = new Set<string>()
  variants.forEach((variant, index) => {
    if (names.has(variant.name)) ctx.addIssue({ code: 'custom', path: [...path, index, 'name'], message: `variant "${variant.name}" is listed twice` })
    names.add(variant.name)
  })
  if (fixed > TOTAL_VARIANT_WEIGHT) ctx.addIssue({ code: 'custom', path, message: `the variant weights add up to ${fixed / 10}%, more than 100%` })
  else if (variable === 0 && fixed !== TOTAL_VARIANT_WEIGHT) {
    ctx.addIssue({ code: 'custom', path, message: `the variant weights add up to ${fixed / 10}%: make them 100%, or leave one without a weight to take the rest` })
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
