/**
 * What one Alertmanager delivery does to the incidents, decided on the replayed state: open an
 * incident for a group that has none open, append the alerts that are new to it (a fourth
 * instance, an alert firing again) and the recoveries it has not recorded, or nothing at all
 * (a repeat notification, or Alertmanager redelivering after a timeout). Pure, so that a
 * redelivery is recognised the same way whichever process receives it.
 */
import { alertEndOf, alertRecordOf, fitAlerts, groupService, groupTitle, severityOfAlerts, type AlertDelivery } from './alertmanager.js'
import type { AlertEnd, AlertRecord } from './events.js'
import type { SeverityMapping } from './severity.js'
import { alertKey, isTerminal, type Incident } from './state.js'

/** The data of an `incident.opened` for a group, before a person's overrides. */
export interface GroupDeclaration {
  title: string
  severity: string
  severityReason: string
  service?: string
  alerts: AlertRecord[]
  alertsOmitted: number
  alertGroupKey?: string
  groupLabels: Record<string, string>
  alertmanagerUrl?: string
}

export type DeliveryPlan =
  | { action: 'open'; declaration: GroupDeclaration; reason: string }
  | { action: 'append'; incident: Incident; firing: AlertRecord[]; resolved: AlertEnd[]; alertsOmitted: number; reason: string }
  | { action: 'unchanged'; incident?: Incident; reason: string }

/** The incidents of the delivery's group: same groupKey; without one (an API v2 list), an alert in common. */
function ofGroup(incidents: readonly Incident[], delivery: AlertDelivery): Incident[] {
  if (delivery.groupKey) return incidents.filter((incident) => incident.alertGroupKey === delivery.groupKey)
  const fingerprints = new Set(delivery.alerts.map((alert) => alert.fingerprint))
  return incidents.filter(
    (incident) => incident.source === 'alertmanager' && incident.alerts.some((alert) => fingerprints.has(alert.fingerprint)),
  )
}

export function planDelivery(incidents: readonly Incident[], delivery: AlertDelivery, mapping: SeverityMapping): DeliveryPlan {
  const records = delivery.alerts.map((alert) => alertRecordOf(alert, delivery, mapping))
  const group = ofGroup(incidents, delivery)
  const open = group.filter((incident) => !isTerminal(incident.status)).at(-1)
  if (open) return changesTo(open, delivery, records)

  const closed = group.at(-1)
  const known = new Set(closed?.alerts.map(alertKey) ?? [])
  const newFiring = records.filter((record) => record.status === 'firing' && !known.has(alertKey(record)))
  if (newFiring.length > 0) {
    // Alerts already known to the closed incident are its own; the new incident starts with the rest.
    const fresh = records.filter((record) => !known.has(alertKey(record)))
    return {
      action: 'open',
      declaration: declare(delivery, fresh, mapping),
      reason: closed ? `${closed.id} is ${closed.status}: the group fires again` : 'a new alert group',
    }
  }
  if (closed) {
    const changes = changesTo(closed, delivery, records)
    if (changes.action === 'append') return { ...changes, firing: [], reason: `recoveries of ${closed.id}, which is ${closed.status}` }
    return { action: 'unchanged', incident: closed, reason: `${closed.id} is ${closed.status} and these alerts are already on it` }
  }
  return { action: 'unchanged', reason: 'no incident for this group, and none of its alerts is firing' }
}

function changesTo(incident: Incident, delivery: AlertDelivery, records: readonly AlertRecord[]): DeliveryPlan {
  const known = new Map(incident.alerts.map((alert) => [alertKey(alert), alert]))
  const firing = records.filter((record) => record.status === 'firing' && !known.has(alertKey(record)))
  const resolved: AlertEnd[] = []
  delivery.alerts.forEach((alert, index) => {
    if (alert.status !== 'resolved') return
    const record = known.get(alertKey(alert))
    if (record?.status === 'resolved') return
    // An alert the incident never saw firing keeps its labels and annotations.
    resolved.push(record ? alertEndOf(alert) : { ...records[index]!, ...alertEndOf(alert) })
  })
  if (firing.length === 0 && resolved.length === 0)
    return {
      action: 'unchanged',
      incident,
      reason: `${incident.id} already has every alert of this notification (a repeat or a redelivery)`,
    }
  const fitted = fitAlerts(firing)
  return {
    action: 'append',
    incident,
    firing: fitted.kept,
    resolved,
    alertsOmitted: fitted.omitted,
    reason: [
      firing.length ? `${firing.length} new alert${firing.length === 1 ? '' : 's'}` : '',
      resolved.length ? `${resolved.length} resolved` : '',
    ]
      .filter(Boolean)
      .join(', '),
  }
}

function declare(delivery: AlertDelivery, records: readonly AlertRecord[], mapping: SeverityMapping): GroupDeclaration {
  const firing = records.filter((record) => record.status === 'firing')
  const choice = severityOfAlerts(firing, mapping)
  const fitted = fitAlerts(records)
  const service = groupService(delivery, records)
  return {
    title: groupTitle(delivery, firing),
    severity: choice.severity,
    severityReason: choice.reason,
    ...(service ? { service } : {}),
    alerts: fitted.kept,
    alertsOmitted: fitted.omitted + delivery.truncatedAlerts,
    ...(delivery.groupKey ? { alertGroupKey: delivery.groupKey } : {}),
    groupLabels: delivery.groupLabels,
    ...(delivery.externalURL ? { alertmanagerUrl: delivery.externalURL } : {}),
  }
}
