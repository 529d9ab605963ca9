/**
 * Prometheus series of the backends, for threshold rules: each backend's `/metrics` is read at the
 * start and end of a window; a gauge rule takes the value at the end, a counter rule the increase
 * over the window (a counter that went down was reset: its value at the end is the increase).
 * `readSeries` is pure: text in, the sums of the selected series out.
 */
import type { PrometheusSelector } from './analysis.js'

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+-?\d+)?\s*$/
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y
const MAX_LINE = 64 * 1024

/** The sum of the series matching each selector, or undefined for a selector that matches none. */
export function readSeries(text: string, selectors: readonly PrometheusSelector[]): Record<string, number | undefined> {
  const sums: Record<string, number | undefined> = Object.fromEntries(selectors.map((selector) => [selector.text, undefined]))
  const byName = new Map<string, PrometheusSelector[]>()
  for (const selector of selectors) byName.set(selector.name, [...(byName.get(selector.name) ?? []), selector])
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.length > MAX_LINE) continue
    const match = SAMPLE.exec(line)
    if (!match) continue
    const wanted = byName.get(match[1]!)
    if (!wanted) continue
    const labels = parseLabels(match[2] ?? '')
    const value = parseValue(match[3]!)
    if (!labels || value === undefined) continue
    for (const selector of wanted) {
      if (Object.entries(selector.labels).every(([name, expected]) => labels[name] === expected))
        sums[selector.text] = (sums[selector.text] ?? 0) + value
    }
  }
  return sums
}

function parseLabels(text: string): Record<string, string> | undefined {
  const labels = Object.create(null) as Record<string, string>
  if (text === '') return labels
  const inner = text.slice(1, -1)
  LABEL.lastIndex = 0
  while (LABEL.lastIndex < inner.length) {
    const match = LABEL.exec(inner)
    if (!match) return inner.slice(LABEL.lastIndex).trim() === '' ? labels : undefined
    labels[match[1]!] = match[2]!.replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char))
  }
  return labels
}

function parseValue(text: string): number | undefined {
  if (text === '+Inf') return Infinity
  if (text === '-Inf') return -Infinity
  const value = Number(text)
  return Number.isNaN(value) ? undefined : value
}

/** Reads a backend's /metrics (text), or says why it cannot. */
export async function scrapeMetrics(url: string, timeoutMs = 5000): Promise<{ text: string } | { error: string }> {
  try {
    const answer = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'text/plain' } })
    if (answer.status !== 200) return { error: `${url} answered ${answer.status}` }
    const text = await answer.text()
    return { text }
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause
    return { error: `${url}: ${cause?.code ?? (error as Error).message}` }
  }
}

/** Gauge: the value at the end. Counter: the increase from start to end (a reset counts from 0). */
export function seriesValue(type: 'gauge' | 'counter', start: number | undefined, end: number | undefined): number | undefined {
  if (end === undefined) return undefined
  if (type === 'gauge') return end
  if (start === undefined) return undefined
  return end >= start ? end - start : end
}
