import { z } from 'zod'
import { defineEvents, eventFields } from '../journal/index.js'
import type { TrafficChange } from './control.js'

const { text, percent } = eventFields
const state = z.enum(['ready', 'drain', 'maint'])
const engine = z.enum(['builtin', 'haproxy']).optional()

/** Every traffic change, made by the built-in router or through the HAProxy driver. */
export const routerEvents = defineEvents('router', {
  weight: {
    description: "A pool's weights changed (share of traffic per backend, in percent).",
    data: z.looseObject({ pool: text, weights: z.record(z.string(), percent), previous: z.record(z.string(), percent).optional(), engine }),
    summary: (d) =>
      `${d.pool}: ${Object.entries(d.weights)
        .map(([name, weight]) => `${name} ${weight}%`)
        .join(', ')}${d.previous ? ` (was ${Object.values(d.previous).join('/')})` : ''}`,
  },
  state: {
    description: 'A backend was set ready, drain or maint.',
    data: z.looseObject({ pool: text, backend: text, state, previous: state.optional(), engine }),
    summary: (d) => `${d.pool}/${d.backend} ${d.previous ? `${d.previous} -> ` : ''}${d.state}`,
  },
  drained: {
    description: 'A drain finished: in-flight requests completed, or the timeout cut them.',
    data: z.looseObject({
      pool: text,
      backend: text,
      drained: z.boolean(),
      inFlightAtStart: z.number().int().min(0),
      remaining: z.number().int().min(0),
      waitedMs: z.number().min(0),
      engine,
    }),
    summary: (d) =>
      d.drained
        ? `${d.pool}/${d.backend} drained in ${d.waitedMs} ms (${d.inFlightAtStart} in flight at start)`
        : `${d.pool}/${d.backend} drain timed out after ${d.waitedMs} ms with ${d.remaining} still in flight`,
  },
  'backend-down': {
    description: 'The router took a failing backend out of rotation (health checks or passive errors).',
    data: z.looseObject({ pool: text, backend: text, reason: text, inFlight: z.number().int().min(0).optional(), engine }),
    summary: (d) => `${d.pool}/${d.backend} down: ${d.reason}${d.inFlight ? ` (${d.inFlight} in flight)` : ''}`,
  },
  'backend-up': {
    description: 'A backend passed its checks again and is back in rotation.',
    data: z.looseObject({ pool: text, backend: text, reason: text, downMs: z.number().min(0).optional(), engine }),
    summary: (d) => `${d.pool}/${d.backend} up: ${d.reason}${d.downMs ? ` after ${Math.round(d.downMs / 1000)}s down` : ''}`,
  },
})

/** The journal event of a traffic change. */
export function trafficEvent(
  change: TrafficChange,
  engineName: 'builtin' | 'haproxy',
): { kind: string; subject: string; data: Record<string, unknown> } {
  switch (change.kind) {
    case 'weights':
      return {
        kind: routerEvents.weight.kind,
        subject: change.pool,
        data: { pool: change.pool, weights: change.weights, previous: change.previous, engine: engineName },
      }
    case 'state':
      return {
        kind: routerEvents.state.kind,
        subject: `${change.pool}/${change.backend}`,
        data: { pool: change.pool, backend: change.backend, state: change.state, previous: change.previous, engine: engineName },
      }
    case 'drained':
      return {
        kind: routerEvents.drained.kind,
        subject: `${change.pool}/${change.backend}`,
        data: { ...change.result, engine: engineName },
      }
    case 'backend-down':
      return {
        kind: routerEvents['backend-down'].kind,
        subject: `${change.pool}/${change.backend}`,
        data: { pool: change.pool, backend: change.backend, reason: change.reason, inFlight: change.inFlight, engine: engineName },
      }
    case 'backend-up':
      return {
        kind: routerEvents['backend-up'].kind,
        subject: `${change.pool}/${change.backend}`,
        data: { pool: change.pool, backend: change.backend, reason: change.reason, downMs: change.downMs, engine: engineName },
      }
  }
}
