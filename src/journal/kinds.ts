import { z } from 'zod'

/**
 * Event kinds, namespaced `area.what`. The journal owns the envelope and the kinds of its own
 * (`note`); every other module defines its events where it writes them, with `defineEvents`:
 * a data schema, the type inferred from it, and the one-line summary that the journal listing,
 * the incident timeline and the post-mortem all print. Defining registers the kinds, so the
 * journal validates and words them without knowing the modules. Kinds under `x.` are free for
 * users' own tools.
 */
export interface EventKind<Data extends Record<string, unknown> = Record<string, unknown>> {
  kind: string
  description: string
  data: z.ZodType<Data>
  summary(data: Data): string
}

/** One kind of a family: its definition, and typed helpers for the writers and readers of it. */
export interface DefinedKind<Kind extends string, Data extends Record<string, unknown>> extends EventKind<Data> {
  kind: Kind
  /** Is this journal event of this kind? Its data was validated when it was appended. */
  is<E extends { kind: string; data: Record<string, unknown> }>(event: E): event is E & { kind: Kind; data: Data }
}

export interface KindDefinition<Schema extends z.ZodType<Record<string, unknown>>> {
  description: string
  data: Schema
  summary(data: z.infer<Schema>): string
}

type Schemas = Record<string, z.ZodType<Record<string, unknown>>>

export type EventFamily<Namespace extends string, S extends Schemas> = {
  [Name in keyof S & string]: DefinedKind<`${Namespace}.${Name}`, z.infer<S[Name]>>
}

/** The data of a kind, for code that builds or reads it. */
export type EventData<K> = K extends DefinedKind<string, infer Data> ? Data : never

export const EXTENSION_NAMESPACE = 'x'
export const KIND_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9_-]*)*$/

const registry = new Map<string, EventKind>()

/**
 * Defines (and registers) a module's event kinds: `defineEvents('deploy', { step: {...} })` gives
 * `deployEvents.step` with `kind: 'deploy.step'`. Defining the same kind twice with another
 * definition is a programming error.
 */
export function defineEvents<const Namespace extends string, S extends Schemas>(
  namespace: Namespace,
  definitions: { [Name in keyof S]: KindDefinition<S[Name]> },
): EventFamily<Namespace, S> {
  if (namespace === EXTENSION_NAMESPACE) throw new Error(`the ${EXTENSION_NAMESPACE}. namespace is for users' own kinds`)
  const family: Record<string, EventKind> = {}
  for (const [name, definition] of Object.entries(definitions)) {
    const kind = `${namespace}.${name}`
    family[name] = registerKind(kind, definition as KindDefinition<z.ZodType<Record<string, unknown>>>) as unknown as EventKind
  }
  return family as unknown as EventFamily<Namespace, S>
}

/** Registers one kind outside a namespace (the journal's own `note`). */
export function registerKind<Schema extends z.ZodType<Record<string, unknown>>>(
  kind: string,
  definition: KindDefinition<Schema>,
): DefinedKind<string, z.infer<Schema>> {
  if (!KIND_PATTERN.test(kind)) throw new Error(`event kind "${kind}" is not namespaced area.what`)
  const existing = registry.get(kind)
  if (existing && (existing.data !== definition.data || existing.description !== definition.description)) {
    throw new Error(`event kind "${kind}" is defined twice`)
  }
  const entry: DefinedKind<string, z.infer<Schema>> = {
    kind,
    description: definition.description,
    data: definition.data as unknown as z.ZodType<z.infer<Schema>>,
    summary: (data) => definition.summary(data),
    is: (event): event is typeof event & { kind: string; data: z.infer<Schema> } => event.kind === kind,
  }
  if (!existing) registry.set(kind, entry as unknown as EventKind)
  return entry
}

/** Every kind registered so far, in the order they were defined. */
export function registeredEventKinds(): EventKind[] {
  return [...registry.values()]
}

export function findEventKind(name: string): EventKind | undefined {
  return registry.get(name)
}

/**
 * The kind's wording of an event's data, whole (no links, not cut to a line): the one source of
 * it for the journal's listing, the incident timeline and the post-mortem. Undefined for kinds
 * without one (x.*, or a module not loaded) and for data the kind's schema refuses.
 */
export function summarizeEventData(kind: string, data: Record<string, unknown>): string | undefined {
  const entry = registry.get(kind)
  if (!entry) return undefined
  const parsed = entry.data.safeParse(data)
  return parsed.success ? entry.summary(parsed.data) : undefined
}

/** Registered kinds and `x.*`: what append accepts. */
export function isAcceptedKind(name: string): boolean {
  return registry.has(name) || (name.startsWith(`${EXTENSION_NAMESPACE}.`) && KIND_PATTERN.test(name))
}

export function kindNamespaces(): string[] {
  return [...new Set(registeredEventKinds().map((entry) => entry.kind.split('.')[0]!)), EXTENSION_NAMESPACE]
}

/** The journal's own kind: a free-text note from a person or a CI step. */
export const noteEvent = registerKind('note', {
  description: 'A free-text note from a person or a CI step.',
  data: z.looseObject({ message: z.string().min(1) }),
  summary: (d) => d.message,
})

/** Shared by the modules' schemas. */
export const eventFields = {
  text: z.string().min(1),
  percent: z.number().min(0).max(100),
  /** `' by x'` when present, '' when not: the optional parts of a summary. */
  optional: (label: string, value: unknown) => (value === undefined || value === null || value === '' ? '' : ` ${label}${String(value)}`),
}
