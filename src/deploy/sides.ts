/**
 * Which backends of the traffic engine a rollout moves: `--stable URL --canary URL` (or backend
 * names) looked up in the engine's pools. Pure: a snapshot in, the pool and the two sides out, or
 * a bad-input error that says what the engine has. A strangler fig names its route (`--route
 * /payments`): the pool that prefix goes to is the one whose weights move.
 */
import { badInput } from '../core/index.js'
import type { PoolView, TrafficSnapshot } from '../traffic/index.js'
import type { BackendRef } from './rollout.js'

export interface SideRequest {
  /** A URL (http://127.0.0.1:3001), an address (127.0.0.1:3001) or a backend name (stable, pool/stable). */
  spec: string
  /** --stable, --canary...: for messages. */
  flag: string
}

/** host:port of a URL or an address, for comparing a URL given on the command line with HAProxy's addresses. */
export function addressKey(text: string): string {
  const trimmed = text.trim()
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    try {
      const url = new URL(trimmed)
      const port = url.port || (url.protocol === 'https:' ? '443' : '80')
      return `${url.hostname.replace(/^\[|\]$/g, '')}:${port}`.toLowerCase()
    } catch {
      return trimmed.toLowerCase()
    }
  }
  return trimmed.toLowerCase()
}

function looksLikeAddress(spec: string): boolean {
  return spec.includes('://') || /:\d+$/.test(spec)
}

export interface ResolvedPool {
  pool: string
  members: string[]
  backends: BackendRef[]
}

/** The pool to act in: the route's pool, the one named, or the one holding every given backend. */
export function resolvePool(
  snapshot: TrafficSnapshot,
  request: { route?: string; pool?: string; sides: readonly SideRequest[] },
): PoolView {
  const pools = snapshot.pools
  if (pools.length === 0)
    throw badInput(`The traffic engine (${snapshot.engine}) has no pools`, 'Start the router with --backend name=URL for each side.')
  if (request.route !== undefined) {
    const prefix = request.route.length > 1 ? request.route.replace(/\/+$/, '') : request.route
    if (!prefix.startsWith('/')) throw badInput(`--route: "${request.route}" must start with /`)
    const route = snapshot.routes.find((candidate) => candidate.prefix === prefix)
    if (!route)
      throw badInput(
        `--route ${prefix}: the ${snapshot.engine === 'haproxy' ? 'HAProxy driver sees no routes (they live in its configuration)' : `router has no such route (routes: ${snapshot.routes.map((item) => `${item.prefix}→${item.pool}`).join(', ') || 'none'})`}`,
        snapshot.engine === 'haproxy'
          ? 'Name the HAProxy backend with --pool instead.'
          : 'Start the router with --route /prefix=pool and the new service in that pool.',
      )
    return pools.find((pool) => pool.name === route.pool)!
  }
  if (request.pool !== undefined) {
    const pool = pools.find((candidate) => candidate.name === request.pool)
    if (!pool) throw badInput(`--pool: unknown pool "${request.pool}" (pools: ${pools.map((item) => item.name).join(', ')})`)
    return pool
  }
  const holding = pools.filter((pool) => request.sides.every((side) => findBackend(pool, side.spec) !== undefined))
  if (holding.length === 1) return holding[0]!
  if (holding.length > 1) {
    const preferred = holding.find((pool) => pool.name === 'default')
    if (preferred) return preferred
    throw badInput(`The backends are in several pools (${holding.map((pool) => pool.name).join(', ')}): say which with --pool`)
  }
  const missing = request.sides.find((side) => !pools.some((pool) => findBackend(pool, side.spec)))
  if (missing) throw unknownBackend(snapshot, missing)
  throw badInput(
    `No pool holds all of ${request.sides.map((side) => `${side.flag} ${side.spec}`).join(', ')}`,
    'Put them in one pool: opsctl router start --backend stable=URL --backend canary=URL.',
  )
}

export function resolveBackend(snapshot: TrafficSnapshot, pool: PoolView, side: SideRequest): BackendRef {
  const found = findBackend(pool, side.spec)
  if (!found) throw unknownBackend(snapshot, side, pool)
  return { name: found.name, address: found.address }
}

function findBackend(pool: PoolView, spec: string): PoolView['backends'][number] | undefined {
  const trimmed = spec.trim()
  if (looksLikeAddress(trimmed)) {
    const key = addressKey(trimmed)
    return pool.backends.find((backend) => addressKey(backend.address) === key)
  }
  const slash = trimmed.indexOf('/')
  if (slash !== -1)
    return trimmed.slice(0, slash) === pool.name ? pool.backends.find((backend) => backend.name === trimmed.slice(slash + 1)) : undefined
  return pool.backends.find((backend) => backend.name === trimmed)
}

function unknownBackend(snapshot: TrafficSnapshot, side: SideRequest, pool?: PoolView) {
  const listed = (pool ? [pool] : snapshot.pools).flatMap((item) =>
    item.backends.map((backend) => `${item.name}/${backend.name}=${backend.address}`),
  )
  return badInput(
    `${side.flag} ${side.spec}: no such backend ${pool ? `in pool ${pool.name}` : `in the ${snapshot.engine === 'haproxy' ? 'HAProxy configuration' : 'router'}`} (it has: ${listed.join(', ') || 'none'})`,
    'Give the backend URL or name as the router knows it (opsctl router status), or add it: opsctl router start --backend name=URL.',
  )
}

/** The URL of a backend's own endpoints (/metrics, /healthz): its address, with http:// for HAProxy's host:port. */
export function backendUrl(address: string, path: string): string {
  const base = address.includes('://') ? address.replace(/\/+$/, '') : `http://${address}`
  return `${base}${path.startsWith('/') ? path : `/${path}`}`
}
