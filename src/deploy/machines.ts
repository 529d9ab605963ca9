/** One entry to the state machines, whatever the strategy. */
import type { RolloutEvent, Transition } from './actions.js'
import { blueGreenTransition } from './bluegreen-machine.js'
import { canaryTransition } from './canary-machine.js'
import type { Rollout } from './rollout.js'
import { rollingTransition } from './rolling-machine.js'

export type { RolloutEvent } from './actions.js'

export function transition(rollout: Rollout, event: RolloutEvent): Transition<Rollout> {
  switch (rollout.strategy) {
    case 'canary':
    case 'strangler':
      return canaryTransition(rollout, event)
    case 'bluegreen':
      return blueGreenTransition(rollout, event)
    case 'rolling':
      return rollingTransition(rollout, event)
  }
}
