/**
 * autocannon's setupClient inside a worker thread (it require()s this through a small shim, see
 * runner.ts). The first client of a run creates the thread's agent, which says hello to the main
 * thread, receives its share of the plan and the common start time, and sends its samples back
 * over a channel of its own.
 */
import { randomUUID } from 'node:crypto'
import { LoadAgent, type AgentAssignment, type AutocannonClient } from './agent.js'

export const controlChannelName = (runId: string) => `opsctl-load-${runId}`
export const dataChannelName = (runId: string, token: string) => `opsctl-load-${runId}-${token}`

export type ControlMessage =
  { type: 'hello'; token: string } | { type: 'assign'; token: string; assignment: AgentAssignment } | { type: 'stop' }
export type DataMessage =
  { type: 'samples'; batch: import('./agent.js').SampleBatch } | { type: 'done'; report: import('./agent.js').AgentReport }

const agents = new Map<string, LoadAgent>()

export function setupClient(client: AutocannonClient): void {
  const runId = (client.opts.initialContext as { opsctl?: { runId?: string } } | undefined)?.opsctl?.runId
  if (!runId) throw new Error('opsctl load: a worker client without a run id')
  let agent = agents.get(runId)
  if (!agent) {
    agent = createWorkerAgent(runId)
    agents.set(runId, agent)
  }
  agent.attach(client)
}

function createWorkerAgent(runId: string): LoadAgent {
  const token = randomUUID()
  const control = new BroadcastChannel(controlChannelName(runId))
  const data = new BroadcastChannel(dataChannelName(runId, token))
  const post = (message: DataMessage) => data.postMessage(message)
  const agent = new LoadAgent({
    samples: (batch) => post({ type: 'samples', batch }),
    done: (report) => {
      post({ type: 'done', report })
      agents.delete(runId)
      // let the last messages leave before the channels (and with them the thread) close
      setTimeout(() => {
        control.close()
        data.close()
      }, 50)
    },
  })
  control.onmessage = (event) => {
    const message = (event as unknown as { data: ControlMessage }).data
    if (message.type === 'assign' && message.token === token) agent.assign(message.assignment)
    else if (message.type === 'stop') agent.stop()
  }
  control.postMessage({ type: 'hello', token } satisfies ControlMessage)
  return agent
}
