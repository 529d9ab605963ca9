/**
 * JUnit XML: one test case per check, the form GitHub (test reporters), GitLab (artifacts:reports:junit)
 * and Jenkins read. fail and inconclusive are <failure>; an invalid measurement is an <error>
 * (the test could not run properly), so CI tools tell "regressed" from "could not measure".
 * Every text and attribute is escaped, and characters XML 1.0 forbids are dropped. Pure.
 */
import type { CheckResult, GateReport } from './model.js'

// XML 1.0 allows tab, newline, carriage return and everything from U+0020 (minus surrogates and U+FFFE/F)
const FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu

export function escapeXmlText(text: string): string {
  return text.replace(FORBIDDEN, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

export function escapeXmlAttribute(text: string): string {
  return escapeXmlText(text)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
}

const seconds = (ms: number) => (ms / 1000).toFixed(3)

export function renderJUnit(report: GateReport): string {
  const failures = report.checks.filter((check) => check.status === 'fail' || check.status === 'inconclusive').length
  const errors = report.checks.filter((check) => check.status === 'invalid').length
  const counts = `tests="${report.checks.length}" failures="${failures}" errors="${errors}" skipped="0" time="${seconds(report.durationMs)}"`
  const timestamp = report.startedAt.replace(/\.\d+Z$/, '')
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="opsctl gate" ${counts}>`,
    `  <testsuite name="opsctl gate" ${counts} timestamp="${escapeXmlAttribute(timestamp)}">`,
    '    <properties>',
    `      <property name="verdict" value="${escapeXmlAttribute(report.status)}"/>`,
    `      <property name="mode" value="${escapeXmlAttribute(report.mode)}"/>`,
    ...(report.service ? [`      <property name="service" value="${escapeXmlAttribute(report.service.command)}"/>`] : []),
    '    </properties>',
    ...report.checks.flatMap(testCase),
    '  </testsuite>',
    '</testsuites>',
  ]
  return `${lines.join('\n')}\n`
}

function testCase(check: CheckResult): string[] {
  const open = `    <testcase name="${escapeXmlAttribute(check.name)}" classname="opsctl.gate.${escapeXmlAttribute(check.type)}" time="${seconds(check.durationMs)}"`
  const out = [`measured: ${check.measured}`, `budget: ${check.budget}`, ...check.files.map((file) => `${file.label}: ${file.path}`)].join(
    '\n',
  )
  const systemOut = `      <system-out>${escapeXmlText(out)}</system-out>`
  if (check.status === 'pass') return [`${open}>`, systemOut, '    </testcase>']
  const element = check.status === 'invalid' ? 'error' : 'failure'
  const type = check.status === 'invalid' ? 'invalid measurement' : check.status
  const message = check.verdict.reasons.join('; ') || check.status
  const body = [
    ...check.verdict.reasons,
    ...check.evidence.map((item) => `${item.file ? `${item.file}${item.line ? `:${item.line}` : ''}: ` : ''}${item.message}`),
    ...(check.verdict.hint ? [`Try: ${check.verdict.hint}`] : []),
  ].join('\n')
  return [
    `${open}>`,
    `      <${element} message="${escapeXmlAttribute(message)}" type="${escapeXmlAttribute(type)}">${escapeXmlText(body)}</${element}>`,
    systemOut,
    '    </testcase>',
  ]
}
