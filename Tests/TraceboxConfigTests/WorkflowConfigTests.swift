import Foundation
import Testing
import WorkflowDefinitions
@testable import TraceboxConfig

/// Workflow definitions: what loads, and what is refused with its file, line and reason.
@Suite("Workflow configuration")
struct WorkflowConfigTests {
    static let valid = """
        smtp: { url: "smtp://127.0.0.1:2525", from: "tracebox@example.com" }
        workflows:
          - id: deal-won
            version: 2
            on: { source: hubspot, type: "deal.*" }
            when: { pointer: /stage, in: [won, closed] }
            steps:
              - name: create_crm_record
                http:
                  method: post
                  url: "https://crm.example.com/records"
                  headers: { Content-Type: application/json, Authorization: "Bearer {{env.CRM_TOKEN}}" }
                  body: '{"deal": "{{event.payload.dealId}}"}'
                timeout: 10s
                retry: { max_attempts: 5, initial: 1s, max: 5m }
                retry_on: [connection, timeout, http_5xx]
              - name: send_welcome_email
                email:
                  to: "{{event.payload.email}}"
                  subject: "Welcome aboard"
                  text: "Deal {{event.payload.dealId}} is {{steps.create_crm_record.output.body.id}}"
        """

    func failure(_ yaml: String) -> ConfigError? {
        do {
            _ = try Configuration.parse(yaml, file: "w.yaml", environment: [:])
            return nil
        } catch {
            return error
        }
    }

    @Test func aCompleteDefinitionLoads() throws {
        let config = try Configuration.parse(Self.valid, file: "w.yaml", environment: [:])
        let workflow = try #require(config.workflows.first)
        #expect(workflow.id == "deal-won" && workflow.version == 2 && workflow.source == "hubspot")
        #expect(workflow.eventType.matches("deal.won") && !workflow.eventType.matches("contact.created"))
        #expect(workflow.steps.map(\.name) == ["create_crm_record", "send_welcome_email"])
        let step = workflow.steps[0]
        #expect(step.timeout == .seconds(10) && step.retry.maxAttempts == 5 && step.retry.max == .seconds(300))
        #expect(step.retryOn.contains(.http5xx) && !step.retryOn.contains(.http429))
        #expect(step.destination == "https://crm.example.com")
        #expect(workflow.matches(source: "hubspot", eventType: "deal.won", payload: ["stage": "won"]))
        #expect(!workflow.matches(source: "hubspot", eventType: "deal.won", payload: ["stage": "lost"]))
        #expect(config.smtp?.url == "smtp://127.0.0.1:2525" && config.smtpFrom == "tracebox@example.com")
    }

    /// A name no execution can have is refused when the configuration loads (or reloads),
    /// not discovered one failed step at a time.
    @Test func templatesNamingUnknownValuesAreRefused() throws {
        let misspelledRoot = failure(Self.valid.replacingOccurrences(of: "{{event.payload.dealId}}\"}'", with: "{{evnt.payload.dealId}}\"}'"))
        #expect(misspelledRoot?.line == 13, "\(String(describing: misspelledRoot))")
        #expect(misspelledRoot?.reason.contains("unknown name evnt.payload.dealId") == true)
        #expect(misspelledRoot?.description.contains("w.yaml:13") == true)
        let noSuchStep = failure(Self.valid.replacingOccurrences(of: "steps.create_crm_record.output", with: "steps.no_such_step.output"))
        #expect(noSuchStep?.line == 21 && noSuchStep?.reason.contains("no earlier step is named no_such_step") == true,
                "\(String(describing: noSuchStep))")
        let laterStep = failure(Self.valid.replacingOccurrences(of: "{{event.payload.dealId}}\"}'",
                                                                with: "{{steps.send_welcome_email.output.body}}\"}'"))
        #expect(laterStep?.reason.contains("this is the first step") == true, "\(String(describing: laterStep))")
        let eventField = failure(Self.valid.replacingOccurrences(of: "Welcome aboard", with: "Welcome {{event.paylod.name}}"))
        #expect(eventField?.line == 20 && eventField?.reason.contains("event has") == true)
        let badMissing = failure(Self.valid.replacingOccurrences(of: "timeout: 10s", with: "timeout: 10s\n        missing: maybe"))
        #expect(badMissing?.reason.contains("expected fail (the default) or empty") == true)
        // Names inside a section may be relative to it; section names and env are fine.
        let relative = Self.valid.replacingOccurrences(
            of: "Welcome aboard", with: "Welcome{{#event.payload.items}} {{name}}{{/event.payload.items}} {{env.ANYTHING}}")
        #expect(failure(relative) == nil)
        let config = try Configuration.parse(Self.valid.replacingOccurrences(of: "timeout: 10s", with: "timeout: 10s\n        missing: empty"),
                                             file: "w.yaml", environment: [:])
        #expect(config.workflows[0].steps[0].missing == .empty && config.workflows[0].steps[1].missing == .fail)
    }

    @Test func invalidDefinitionsNameFileLineAndReason() {
        let badTemplate = failure(Self.valid.replacingOccurrences(of: "Welcome aboard", with: "Welcome {{#open}}"))
        #expect(badTemplate?.line == 20)
        #expect(badTemplate?.description.contains("w.yaml:20") == true)
        #expect(badTemplate?.reason.contains("template syntax error") == true)

        let unknownKey = failure(Self.valid.replacingOccurrences(of: "timeout: 10s", with: "timeuot: 10s"))
        #expect(unknownKey?.line == 14 && unknownKey?.reason.contains("unknown key") == true)

        let badClass = failure(Self.valid.replacingOccurrences(of: "http_5xx]", with: "http_500]"))
        #expect(badClass?.line == 16 && badClass?.reason.contains("unknown error class") == true)

        let noSteps = failure("workflows:\n  - id: x\n    on: { type: a }\n")
        #expect(noSteps?.reason.contains("at least one step") == true)

        let twoActions = failure("""
            workflows:
              - id: x
                on: { type: a }
                steps:
                  - name: s
                    http: { url: "http://h/" }
                    email: { to: a@b.c, subject: s, text: t }
            """)
        #expect(twoActions?.line == 5 && twoActions?.reason.contains("exactly one of http or email") == true)

        let duplicate = failure("""
            workflows:
              - id: x
                on: { type: a }
                steps: [{ name: s, http: { url: "http://h/" } }]
              - id: x
                on: { type: b }
                steps: [{ name: s, http: { url: "http://h/" } }]
            """)
        #expect(duplicate?.line == 5 && duplicate?.reason.contains("defined twice") == true)

        let badDuration = failure(Self.valid.replacingOccurrences(of: "initial: 1s", with: "initial: soon"))
        #expect(badDuration?.line == 15 && badDuration?.key == "deal-won.steps.create_crm_record.retry.initial")
    }

    @Test func workflowsDirectoryFilesLoadInNameOrder() throws {
        let directory = NSTemporaryDirectory() + "tracebox-wf-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory + "/workflows", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "- id: b\n  on: { type: b }\n  steps: [{ name: s, http: { url: \"http://h/\" } }]\n"
            .write(toFile: directory + "/workflows/20-b.yaml", atomically: true, encoding: .utf8)
        try "id: a\non: { type: a }\nsteps: [{ name: s, http: { url: \"http://h/\" } }]\n"
            .write(toFile: directory + "/workflows/10-a.yml", atomically: true, encoding: .utf8)
        try "workflows_dir: workflows\n".write(toFile: directory + "/tracebox.yaml", atomically: true, encoding: .utf8)
        let config = try Configuration.load(path: directory + "/tracebox.yaml", environment: [:])
        #expect(config.workflows.map(\.id) == ["a", "b"])

        try "- id: c\n  on: { type: c }\n  steps: [{ name: s, http: { url: \"{{#open}}\" } }]\n"
            .write(toFile: directory + "/workflows/30-c.yaml", atomically: true, encoding: .utf8)
        do {
            _ = try Configuration.load(path: directory + "/tracebox.yaml", environment: [:])
            Issue.record("a broken file in the workflows directory was accepted")
        } catch {
            #expect(error.file.hasSuffix("workflows/30-c.yaml") && error.line == 3)
        }
    }

    @Test func anAdminSocketPathTooLongForUNIXSocketsIsRefused() {
        let long = "/tmp/" + String(repeating: "d", count: 100)
        let error = failure("data_dir: \(long)\n")
        #expect(error?.reason.contains("at most 107") == true)
    }
}

/// The `alerts` section: defaults, values, and refusals with the key.
@Suite("Alert configuration")
struct AlertConfigTests {
    @Test func alertsLoadAndBadValuesAreRefused() throws {
        let config = try Configuration.parse("""
            alerts:
              failure_rate: { threshold: 0.1, window: 30m, min_executions: 5 }
              slack: { webhook_url_env: HOOK, group_window: 2m, max_listed: 3 }
              weekly_summary: { to: [a@example.com], at: "Fri 17:30" }
            """, file: "a.yaml", environment: ["HOOK": "http://127.0.0.1:1/x"])
        #expect(config.alerts.threshold == 0.1 && config.alerts.window == .seconds(1800) && config.alerts.minimumExecutions == 5)
        #expect(config.alerts.slackWebhookURL == "http://127.0.0.1:1/x" && config.alerts.slackGroupWindow == .seconds(120))
        #expect(config.alerts.weeklyWeekday == 5 && config.alerts.weeklyHour == 17 && config.alerts.weeklyMinute == 30)
        #expect(config.alerts.pagerDutyRoutingKey == nil)
        #expect(Configuration().alerts.threshold == 0.05)

        func failure(_ yaml: String) -> ConfigError? {
            do {
                _ = try Configuration.parse(yaml, file: "a.yaml", environment: [:])
                return nil
            } catch {
                return error
            }
        }
        #expect(failure("alerts:\n  weekly_summary: { at: \"someday\" }\n")?.key == "alerts.weekly_summary.at")
        #expect(failure("alerts:\n  failure_rate: { threshold: 5 }\n")?.reason.contains("fraction") == true)
        #expect(failure("alerts:\n  pagerduty: { routing_key_env: NOT_SET }\n")?.reason.contains("NOT_SET") == true)
        #expect(failure("alerts:\n  slack: { webhook: x }\n")?.reason.contains("unknown key") == true)
    }
}
