import { z } from 'zod'

const SEVERITY = z.enum(['SEV1', 'SEV2', 'SEV3', 'SEV4', 'SEV5'])
const labelValues = (what: string) => z.array(z.string().trim().min(1)).describe(`Alert label values that declare ${what}.`)

/** An alert labelled `critical` declares SEV1, whose name is "critical": the names read the same on both sides. */
const defaults = {
  severityLabel: 'severity',
  severities: {
    SEV1: ['critical', 'crit', 'emergency', 'fatal', 'disaster'],
    SEV2: ['major', 'error', 'high', 'severe', 'page'],
    SEV3: ['minor', 'warning', 'warn', 'medium', 'average'],
    SEV4: ['low'],
    SEV5: ['info', 'informational', 'notice', 'none'],
  },
  unlabelledSeverity: 'SEV3' as const,
  mitigateWhenAlertsResolve: false,
  stepTimeout: '10m',
  postmortemLeadIn: '30m',
  receiver: {
    host: '127.0.0.1',
    port: 9095,
    path: '/alertmanager',
    maxBody: '1MB',
    actor: 'alertmanager',
  },
}

export const incidentSection = z
  .strictObject({
    severityLabel: z
      .string()
      .trim()
      .min(1)
      .default(defaults.severityLabel)
      .describe('The alert label whose value gives the severity of an incident declared from Alertmanager.'),
    severities: z
      .strictObject({
        SEV1: labelValues('SEV1 (critical)').default(defaults.severities.SEV1),
        SEV2: labelValues('SEV2 (major)').default(defaults.severities.SEV2),
        SEV3: labelValues('SEV3 (minor)').default(defaults.severities.SEV3),
        SEV4: labelValues('SEV4 (low)').default(defaults.severities.SEV4),
        SEV5: labelValues('SEV5 (informational)').default(defaults.severities.SEV5),
      })
      .default(defaults.severities)
      .describe(
        'Label values (case-insensitive) to severities; sev1…sev5 and p1…p5 are always understood. The worst alert of a group wins.',
      ),
    unlabelledSeverity: SEVERITY.default(defaults.unlabelledSeverity).describe(
      'The severity of an incident whose alerts carry no known severity label value.',
    ),
    mitigateWhenAlertsResolve: z
      .boolean()
      .default(defaults.mitigateWhenAlertsResolve)
      .describe('Mark the incident mitigated (by the integration) when every one of its alerts has resolved; a person still resolves it.'),
    stepTimeout: z
      .string()
      .default(defaults.stepTimeout)
      .describe('How long opsctl runbook run lets a step run before stopping it, e.g. 10m.'),
    postmortemLeadIn: z
      .string()
      .default(defaults.postmortemLeadIn)
      .describe("How far before the impact a post-mortem's timeline starts, to show the change that set it off, e.g. 30m."),
    receiver: z
      .strictObject({
        host: z.string().default(defaults.receiver.host).describe('Address opsctl incident receive listens on.'),
        port: z
          .number()
          .int()
          .min(0)
          .max(65535)
          .default(defaults.receiver.port)
          .describe('Port of opsctl incident receive; 0 picks a free one.'),
        path: z
          .string()
          .regex(/^\/[\w./-]*$/, 'a path such as /alertmanager')
          .default(defaults.receiver.path)
          .describe("The path Alertmanager's webhook_config url points at."),
        token: z
          .string()
          .min(16)
          .optional()
          .describe('Bearer token Alertmanager sends (http_config.authorization.credentials); 16 characters at least.'),
        username: z.string().min(1).optional().describe('Basic auth user Alertmanager sends (http_config.basic_auth.username).'),
        password: z.string().min(12).optional().describe('Basic auth password (http_config.basic_auth.password); 12 characters at least.'),
        maxBody: z.string().default(defaults.receiver.maxBody).describe('Largest webhook body accepted, e.g. 1MB; larger ones get 413.'),
        actor: z
          .string()
          .trim()
          .min(1)
          .default(defaults.receiver.actor)
          .describe('Who the integration is in the journal (an actor, never a responder).'),
      })
      .default(defaults.receiver)
      .describe('The Alertmanager webhook receiver (opsctl incident receive).'),
  })
  .default(defaults)
  .describe('Incidents: severities from alert labels, and the Alertmanager webhook receiver.')
