/**
 * Where the load goes: `--load` is a full loopback URL or just a path, and the port is the one
 * the target opens unless the URL names one. Pure (the scenario file is read by the caller).
 */
import { badInput } from '../core/index.js'

export type LoadSpec = { url: string } | { scenarioFile: string; scenarioTarget?: string }

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]'])

function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_NAMES.has(hostname.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(hostname)
}

/** The URL of --load (or the scenario's target), checked: http(s), loopback, no credentials. */
function parseLoadUrl(text: string, what: string): URL | undefined {
  if (text.startsWith('/')) return undefined
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw badInput(
      `${what} "${text}" is neither a URL nor a path`,
      'Give a path such as /reports/revenue, or a URL such as http://127.0.0.1:3000/reports/revenue.',
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badInput(`${what} must be an http or https URL, not ${url.protocol}`)
  if (!isLoopbackHost(url.hostname)) {
    throw badInput(
      `${what} points at ${url.hostname}: opsctl profile only loads the process it started, on this machine`,
      'Use 127.0.0.1 or localhost, or give just the path (--load /path).',
    )
  }
  return url
}

/** The port the target must open before the load starts; undefined means the first one it opens. */
export function expectedPort(spec: LoadSpec): number | undefined {
  const text = 'url' in spec ? spec.url : spec.scenarioTarget
  if (!text) return undefined
  const url = parseLoadUrl(text, 'url' in spec ? '--load' : 'The scenario target')
  if (!url || url.port === '' || url.port === '0') return undefined
  return Number(url.port)
}

/** The request URL (quick form) or the origin (scenario) once the target listens on `port`. */
export function loadUrlFor(spec: LoadSpec, listening: { port: number; address: string }): string {
  const host = listening.address === '::1' ? '[::1]' : '127.0.0.1'
  const origin = (protocol: string) => `${protocol}//${host}:${listening.port}`
  if (!('url' in spec)) {
    const url = spec.scenarioTarget ? parseLoadUrl(spec.scenarioTarget, 'The scenario target') : undefined
    return `${origin(url?.protocol ?? 'http:')}${url ? url.pathname.replace(/\/$/, '') : ''}`
  }
  const url = parseLoadUrl(spec.url, '--load')
  if (!url) return `${origin('http:')}${spec.url}`
  return `${origin(url.protocol)}${url.pathname}${url.search}`
}
