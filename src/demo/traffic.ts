/**
 * Light background traffic for the demo: a few requests per second across the reference
 * service's endpoints, only to the loopback service it started, stopped with the demo.
 */
export interface TrafficOptions {
  baseUrl: string
  /** Requests per second. */
  rate: number
  /** Highest user id to ask for (the seed's user count). */
  users: number
  /** Stop after this many requests even if nobody calls stop(). */
  maxRequests?: number
}

export interface TrafficSummary {
  requests: number
  byStatus: Record<string, number>
  errors: number
}

export interface Traffic {
  stop(): Promise<TrafficSummary>
}

/** Deterministic request mix: mostly order lookups (the N+1), some item searches, a rare report. */
export function pickRequest(n: number, users: number): { method: 'GET' | 'POST'; path: string; body?: unknown } {
  const user = ((n * 7919) % users) + 1
  switch (n % 20) {
    case 19:
      return { method: 'GET', path: '/reports/revenue' }
    case 5:
    case 15:
      return { method: 'GET', path: `/items?sku=SKU-${String((n * 31) % 1000).padStart(5, '0')}` }
    case 10:
      return { method: 'POST', path: '/orders', body: { userId: user, items: [{ productId: (n % 50) + 1, quantity: 1 + (n % 3) }] } }
    default:
      return { method: 'GET', path: `/users/${user}/orders` }
  }
}

export function startTraffic(options: TrafficOptions): Traffic {
  const summary: TrafficSummary = { requests: 0, byStatus: {}, errors: 0 }
  const inFlight = new Set<Promise<void>>()
  const limit = options.maxRequests ?? Number.POSITIVE_INFINITY
  const timer = setInterval(
    () => {
      if (summary.requests >= limit) return
      const request = pickRequest(summary.requests++, options.users)
      const sent = fetch(`${options.baseUrl}${request.path}`, {
        method: request.method,
        headers: request.body ? { 'content-type': 'application/json' } : {},
        body: request.body ? JSON.stringify(request.body) : undefined,
        signal: AbortSignal.timeout(10_000),
      })
        .then(async (response) => {
          await response.arrayBuffer()
          summary.byStatus[response.status] = (summary.byStatus[response.status] ?? 0) + 1
        })
        .catch(() => {
          summary.errors++
        })
        .finally(() => inFlight.delete(sent))
      inFlight.add(sent)
    },
    1000 / Math.max(0.1, options.rate),
  )
  return {
    async stop() {
      clearInterval(timer)
      await Promise.all(inFlight)
      return summary
    },
  }
}
