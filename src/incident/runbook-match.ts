/**
 * Which runbooks fit an incident: by the alert's own runbook annotation, by alert name (the
 * runbook's `alerts`, globs allowed), or by symptom (every word of one of the runbook's
 * `symptoms` appears in the alert's name, summary or description). Each match says why, so a
 * responder can judge it in a second.
 */
import type { RunbookMeta } from './runbook-format.js'

export interface AlertLike {
  name: string
  service?: string
  summary?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}

export interface RunbookMatch {
  id: string
  title: string
  score: number
  reasons: string[]
}

const SCORE = { named: 100, alert: 50, symptom: 10 } as const

/**
 * A group of alerts against the runbooks. A runbook's score is that of its strongest kind of match
 * (named > alert name > symptom), whatever the number of alerts in the group: three instances of
 * one alert are one reason, naming the alert once (`alert HighLatency ×3 matches alerts: HighLatency*`).
 */
export function matchRunbooks(alerts: readonly AlertLike[], runbooks: readonly RunbookMeta[]): RunbookMatch[] {
  const matches: RunbookMatch[] = []
  for (const runbook of runbooks) {
    let score = 0
    // reason wording (without the alert names) -> alert names, in order of first appearance
    const reasons = new Map<string, string[]>()
    const add = (kind: keyof typeof SCORE, wording: string, alert: AlertLike) => {
      score = Math.max(score, SCORE[kind])
      const names = reasons.get(wording) ?? []
      names.push(alert.name)
      reasons.set(wording, names)
    }
    for (const alert of alerts) {
      if (!servesAlert(runbook, alert.service)) continue
      if (namedRunbook(alert).includes(runbook.id)) {
        add('named', 'names it in its runbook annotation', alert)
        continue
      }
      const pattern = runbook.alerts.find((candidate) => globMatches(candidate, alert.name))
      if (pattern) {
        add('alert', `matches alerts: ${pattern}`, alert)
        continue
      }
      const words = wordsOf(
        [alert.name, alert.summary, alert.annotations?.summary, alert.annotations?.description, alert.annotations?.message]
          .filter(Boolean)
          .join(' '),
      )
      const symptom = runbook.symptoms.find((candidate) => symptomMatches(candidate, words))
      if (symptom) add('symptom', `shows the symptom "${symptom}"`, alert)
    }
    if (score > 0)
      matches.push({
        id: runbook.id,
        title: runbook.title,
        score,
        reasons: [...reasons].map(([wording, names]) => `alert ${countedNames(names)} ${wording}`),
      })
  }
  return matches.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
}

/** `HighLatency ×3, HighErrors`. */
function countedNames(names: readonly string[]): string {
  const counts = new Map<string, number>()
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1)
  return [...counts].map(([name, count]) => (count > 1 ? `${name} ×${count}` : name)).join(', ')
}

/** For an incident declared by hand: its title (and service) against the symptoms. */
export function matchRunbooksByText(text: string, service: string | undefined, runbooks: readonly RunbookMeta[]): RunbookMatch[] {
  const words = wordsOf(text)
  const matches: RunbookMatch[] = []
  for (const runbook of runbooks) {
    if (!servesAlert(runbook, service)) continue
    const symptoms = runbook.symptoms.filter((symptom) => symptomMatches(symptom, words))
    if (symptoms.length > 0) {
      matches.push({
        id: runbook.id,
        title: runbook.title,
        score: symptoms.length * SCORE.symptom,
        reasons: symptoms.map((symptom) => `the title shows the symptom "${symptom}"`),
      })
    }
  }
  return matches.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
}

function servesAlert(runbook: RunbookMeta, service: string | undefined): boolean {
  if (!runbook.services || runbook.services.length === 0 || !service) return true
  return runbook.services.some((candidate) => globMatches(candidate, service))
}

/** `runbook`, `runbook_id` or `runbook_url` annotations: an id, or a URL whose last segment is one (`.../high-latency.md`). */
function namedRunbook(alert: AlertLike): string[] {
  const values = ['runbook', 'runbook_id', 'runbook_url', 'runbookUrl']
    .map((key) => alert.annotations?.[key] ?? alert.labels?.[key])
    .filter((value): value is string => Boolean(value))
  return values.map((value) =>
    value
      .trim()
      .replace(/[?#].*$/, '')
      .replace(/\/+$/, '')
      .split('/')
      .pop()!
      .replace(/\.md$/i, '')
      .toLowerCase(),
  )
}

/** `HighLatency*` against `HighLatencyP99`, case-insensitive; `*` is any run of characters. */
export function globMatches(pattern: string, value: string): boolean {
  const source = pattern
    .trim()
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${source}$`, 'i').test(value.trim())
}

function symptomMatches(symptom: string, words: ReadonlySet<string>): boolean {
  const wanted = [...wordsOf(symptom)]
  return wanted.length > 0 && wanted.every((word) => words.has(word))
}

/** Lowercase words, camelCase split (`HighRequestLatency`), a plural `s` dropped so `errors` meets `error`. */
export function wordsOf(text: string): Set<string> {
  const spaced = text.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
  const words = new Set<string>()
  for (const raw of spaced.toLowerCase().split(/[^a-z0-9]+/)) {
    if (!raw) continue
    words.add(raw.length > 3 && raw.endsWith('s') && !raw.endsWith('ss') ? raw.slice(0, -1) : raw)
  }
  return words
}
