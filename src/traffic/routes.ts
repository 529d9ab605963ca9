/**
 * Path-prefix routing, the strangler-fig seam: `/payments/*` to an extracted service, everything
 * else to the default pool. The longest matching prefix wins; a prefix matches at a segment
 * boundary only (`/payments` takes /payments, /payments/42 and /payments?x, never /paymentsX).
 * Pure; `match` allocates nothing.
 */
import type { RouteSpec } from './topology.js'

export class RouteTable<Target> {
  private readonly prefixes: string[]
  private readonly targets: Target[]

  constructor(
    routes: ReadonlyArray<RouteSpec & { target: Target }>,
    private readonly fallback: Target,
  ) {
    const sorted = [...routes].sort((a, b) => b.prefix.length - a.prefix.length)
    this.prefixes = sorted.map((route) => route.prefix)
    this.targets = sorted.map((route) => route.target)
  }

  /** The target of a request URL's path (query included or not). */
  match(url: string): Target {
    for (let index = 0; index < this.prefixes.length; index++) {
      const prefix = this.prefixes[index]!
      if (prefix === '/') return this.targets[index]!
      if (!url.startsWith(prefix)) continue
      if (url.length === prefix.length) return this.targets[index]!
      const next = url.charCodeAt(prefix.length)
      if (next === 47 /* / */ || next === 63 /* ? */ || next === 35 /* # */) return this.targets[index]!
    }
    return this.fallback
  }
}
