/// The trace bodies the engine writes on every step attempt, written by `StableJSONWriter`:
/// the same bytes as `JSONEncoder` (`TraceJSONTests` compares them), keys in sorted order.

extension StepStarted: StableJSONWritable {
    public func writeStableJSON(to writer: inout StableJSONWriter) {
        writer.object { json in
            json.member("attempt", attempt)
            json.member("event_id", eventID)
            json.member("execution_id", executionID)
            json.member("idempotency_key", idempotencyKey)
            json.member("input", input)
            json.member("started_at", startedAt)
            json.member("step_index", stepIndex)
            json.member("step_name", stepName)
            json.member("workflow_id", workflowID)
        }
    }
}

extension StepFinished: StableJSONWritable {
    public func writeStableJSON(to writer: inout StableJSONWriter) {
        writer.object { json in
            json.member("attempt", attempt)
            json.member("completed_at", completedAt)
            json.member("duration_ms", durationMS)
            json.member("error", error)
            json.member("event_id", eventID)
            json.member("execution_id", executionID)
            json.member("execution_status", executionStatus?.rawValue)
            json.member("next_attempt_at", nextAttemptAt)
            json.member("outcome", outcome.rawValue)
            json.member("output", output)
            json.member("step_index", stepIndex)
            json.member("step_name", stepName)
            json.member("workflow_id", workflowID)
        }
    }

    public var canWriteStableJSON: Bool { durationMS.isFinite }
}

extension StepSkipped: StableJSONWritable {
    public func writeStableJSON(to writer: inout StableJSONWriter) {
        writer.object { json in
            json.member("event_id", eventID)
            json.member("execution_id", executionID)
            json.member("execution_status", executionStatus?.rawValue)
            json.member("idempotency_key", idempotencyKey)
            json.member("output", output)
            json.member("skipped_at", skippedAt)
            json.member("step_index", stepIndex)
            json.member("step_name", stepName)
            json.member("succeeded_in", succeededIn)
            json.member("workflow_id", workflowID)
        }
    }
}

extension ExecutionsCreated: StableJSONWritable {
    public func writeStableJSON(to writer: inout StableJSONWriter) {
        writer.object { json in
            json.member("executions", executions)
            json.member("job", job)
            json.member("routed_through", routedThrough)
        }
    }
}

extension ExecutionsCreated.JobFed: StableJSONWritable {
    public func writeStableJSON(to writer: inout StableJSONWriter) {
        writer.object { json in
            json.member("event_ids", eventIDs)
            json.member("job_id", jobID)
        }
    }
}

extension NewExecution: StableJSONWritable {
    public func writeStableJSON(to writer: inout StableJSONWriter) {
        writer.object { json in
            json.member("created_at", createdAt)
            json.member("event_id", eventID)
            json.member("execution_id", executionID)
            json.member("force", force)
            json.member("job_id", jobID)
            json.member("replay_of", replayOf)
            json.member("replay_of_version", replayOfVersion)
            json.member("requested_by", requestedBy)
            json.member("step_names", stepNames)
            json.member("trigger", trigger)
            json.member("workflow_id", workflowID)
            json.member("workflow_version", workflowVersion)
        }
    }
}

extension StepInput: StableJSONWritable {
    public func writeStableJSON(to writer: inout StableJSONWriter) {
        writer.object { json in
            json.member("body", body)
            json.member("from", from)
            json.member("headers", headers)
            json.member("html", html)
            json.member("kind", kind)
            json.member("method", method)
            json.member("subject", subject)
            json.member("text", text)
            json.member("to", to)
            json.member("url", url)
        }
    }
}

extension StepInput.Header: StableJSONWritable {
    public func writeStableJSON(to writer: inout StableJSONWriter) {
        writer.object { json in
            json.member("name", name)
            json.member("value", value)
        }
    }
}

extension StepOutput: StableJSONWritable {
    public func writeStableJSON(to writer: inout StableJSONWriter) {
        writer.object { json in
            json.member("body", body)
            json.member("body_bytes", bodyBytes)
            json.member("body_encoding", bodyEncoding)
            json.member("headers", headers)
            json.member("status", status)
            json.member("truncated", truncated)
        }
    }
}

extension StepError: StableJSONWritable {
    public func writeStableJSON(to writer: inout StableJSONWriter) {
        writer.object { json in
            json.member("class", errorClass.rawValue)
            json.member("message", message)
            json.member("response", response)
        }
    }
}

extension RecordPointer: StableJSONWritable {
    public func writeStableJSON(to writer: inout StableJSONWriter) {
        writer.object { json in
            json.member("length", length)
            json.member("offset", offset)
            if partition != 0 { json.member("partition", partition) }
            json.member("segment", segment)
        }
    }
}
