/**
 * Where load goes. Only loopback addresses unless the user says --allow-remote: load is a
 * weapon pointed at someone's server, and the default must never be someone else's.
 */
import { lookup } from 'node:dns/promises'
import { isIP, connect } from 'node:net'
import { badInput, environmentError, redactText } from '../core/index.js'
import type { Target } from './plan.js'
import { targetProblem } from './scenario.js'

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback. Pure. */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').toLowerCase()
  if (isIP(bare) === 4) return bare.startsWith('127.')
  if (isIP(bare) === 6) {
    if (bare === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(bare) || bare === '0:0:0:0:0:0:0:1') return true
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare)
    return mapped ? mapped[1]!.startsWith('127.') : false
  }
  return false
}

export async function resolveTarget(url: string, options: { allowRemote: boolean }): Promise<Target> {
  const problem = targetProblem(url)
  if (problem) throw badInput(`Invalid target: ${problem}`, 'Give a URL such as http://127.0.0.1:3000.')
  const parsed = new URL(url)
  const hostname = parsed.hostname.replace(/^\[|\]$/g, '')
  let addresses: string[]
  if (isIP(hostname)) addresses = [hostname]
  else {
    try {
      addresses = (await lookup(hostname, { all: true })).map((entry) => entry.address)
    } catch (error) {
      throw environmentError(`Cannot resolve ${hostname}: ${(error as Error).message}`, 'Check the host name of the target.', error)
    }
  }
  const remote = addresses.filter((address) => !isLoopbackAddress(address))
  if (remote.length > 0 && !options.allowRemote) {
    throw badInput(
      `Refusing to load ${redactText(parsed.origin)}: ${hostname} is not a loopback address (${remote.join(', ')})`,
      'Load a service on this machine (127.0.0.1, ::1, localhost), or pass --allow-remote if you own the target and mean it.',
    )
  }
  // prefer IPv4 loopback when a name resolves to both, as most dev servers listen there
  const address = addresses.find((candidate) => isIP(candidate) === 4) ?? addresses[0]!
  const protocol = parsed.protocol as Target['protocol']
  const port = Number(parsed.port || (protocol === 'https:' ? 443 : 80))
  return {
    url: parsed.href.replace(/\/$/, ''),
    protocol,
    host: parsed.host,
    address,
    port,
    basePath: parsed.pathname.replace(/\/+$/, ''),
  }
}

/** One TCP connection before the run, so an unreachable target is exit 3 and not a storm of errors. */
export function probeTarget(target: Target, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.address, port: target.port })
    const fail = (error: Error & { code?: string }) => {
      socket.destroy()
      reject(
        environmentError(
          `Cannot connect to ${redactText(target.url)} (${target.address}:${target.port}): ${error.code ?? error.message}`,
          'Check that the service is running and listening on that port.',
          error,
        ),
      )
    }
    socket.setTimeout(timeoutMs, () => fail(Object.assign(new Error(`no answer within ${timeoutMs}ms`), { code: 'ETIMEDOUT' })))
    socket.once('error', fail)
    socket.once('connect', () => {
      socket.end()
      socket.destroy()
      resolve()
    })
  })
}
