// mesos_documents.hpp — Mesos-shaped JSON documents for the Mesos API tests: events and calls
// written the way a Mesos 1.x master emits and a scheduler sends them (field names, enum names,
// base64 uuids, ports as RANGES of numbers, Mesos's default-valued fields included).
#ifndef TESTS_MESOS_DOCUMENTS_HPP
#define TESTS_MESOS_DOCUMENTS_HPP

namespace mesos_documents {

// SUBSCRIBED as a master sends it, with master_info fields this subset does not model
// (capabilities) that a decoder must skip.
inline constexpr const char *subscribed =
    R"J({"subscribed":{"framework_id":{"value":"a3b5c6d7-1f2e-4c8a-9b0d-7e6f5a4b3c2d-0000"},)J"
    R"J("heartbeat_interval_seconds":15.0,"master_info":{"address":{"hostname":"mesos-m1",)J"
    R"J("ip":"10.0.2.15","port":5050},"capabilities":[{"type":"AGENT_UPDATE"},{"type":"AGENT_DRAINING"}],)J"
    R"J("hostname":"mesos-m1","id":"3c2f1e0d-9b8a-4f7e-8d6c-5b4a3f2e1d0c","ip":251789322,)J"
    R"J("pid":"master@10.0.2.15:5050","port":5050,"version":"1.11.0"}},"type":"SUBSCRIBED"})J";

// OFFERS: two offers, cpus/mem/disk SCALAR and ports RANGES, allocation_info, attributes, url.
inline constexpr const char *offers =
    R"J({"offers":{"offers":[{"agent_id":{"value":"a3b5c6d7-1f2e-4c8a-9b0d-7e6f5a4b3c2d-S0"},)J"
    R"J("allocation_info":{"role":"*"},"attributes":[{"name":"rack","text":{"value":"r1"},"type":"TEXT"},)J"
    R"J({"name":"zone","scalar":{"value":2.0},"type":"SCALAR"}],)J"
    R"J("framework_id":{"value":"a3b5c6d7-1f2e-4c8a-9b0d-7e6f5a4b3c2d-0000"},"hostname":"agent-1",)J"
    R"J("id":{"value":"a3b5c6d7-1f2e-4c8a-9b0d-7e6f5a4b3c2d-O0"},"resources":[)J"
    R"J({"allocation_info":{"role":"*"},"name":"cpus","role":"*","scalar":{"value":4.0},"type":"SCALAR"},)J"
    R"J({"allocation_info":{"role":"*"},"name":"mem","role":"*","scalar":{"value":6846.0},"type":"SCALAR"},)J"
    R"J({"allocation_info":{"role":"*"},"name":"disk","role":"*","scalar":{"value":35164.0},"type":"SCALAR"},)J"
    R"J({"allocation_info":{"role":"*"},"name":"ports","ranges":{"range":[{"begin":31000,"end":32000},)J"
    R"J({"begin":33000,"end":33005}]},"role":"*","type":"RANGES"}],)J"
    R"J("url":{"address":{"hostname":"agent-1","ip":"10.0.2.16","port":5051},"path":"/slave(1)","scheme":"http"}},)J"
    R"J({"agent_id":{"value":"a3b5c6d7-1f2e-4c8a-9b0d-7e6f5a4b3c2d-S1"},"framework_id":{"value":"a3b5c6d7-1f2e-4c8a-9b0d-7e6f5a4b3c2d-0000"},)J"
    R"J("hostname":"agent-2","id":{"value":"a3b5c6d7-1f2e-4c8a-9b0d-7e6f5a4b3c2d-O1"},"resources":[)J"
    R"J({"name":"cpus","role":"*","scalar":{"value":0.5},"type":"SCALAR"},)J"
    R"J({"name":"gpus-set","role":"*","set":{"item":["g0","g1"]},"type":"SET"}],)J"
    R"J("url":{"address":{"hostname":"agent-2","ip":"10.0.2.17","port":5051},"path":"/slave(1)","scheme":"http"}}]},"type":"OFFERS"})J";

// UPDATE of a running task from the command executor; the uuid is 16 raw bytes in base64;
// container_status is a field this subset does not model.
inline constexpr const char *update =
    R"J({"type":"UPDATE","update":{"status":{"agent_id":{"value":"a3b5c6d7-1f2e-4c8a-9b0d-7e6f5a4b3c2d-S0"},)J"
    R"J("container_status":{"container_id":{"value":"c0ffee00-0000-4000-8000-000000000001"},)J"
    R"J("executor_pid":4242,"network_infos":[{"ip_addresses":[{"ip_address":"10.0.2.16"}]}]},)J"
    R"J("executor_id":{"value":"task-1"},"healthy":true,"source":"SOURCE_EXECUTOR","state":"TASK_RUNNING",)J"
    R"J("task_id":{"value":"task-1"},"timestamp":1764756000.123456,"uuid":"3q2+7wAAQACAAAAAAAAAAQ=="}}})J";

// The same UPDATE without the unmodelled field: what our writer must reproduce exactly.
inline constexpr const char *update_known_fields =
    R"J({"type":"UPDATE","update":{"status":{"agent_id":{"value":"a3b5c6d7-1f2e-4c8a-9b0d-7e6f5a4b3c2d-S0"},)J"
    R"J("executor_id":{"value":"task-1"},"healthy":true,"source":"SOURCE_EXECUTOR","state":"TASK_RUNNING",)J"
    R"J("task_id":{"value":"task-1"},"timestamp":1764756000.123456,"uuid":"3q2+7wAAQACAAAAAAAAAAQ=="}}})J";

// Reconciliation answer: no uuid, reason and source set by the master.
inline constexpr const char *update_reconciliation =
    R"J({"type":"UPDATE","update":{"status":{"agent_id":{"value":"S0"},"message":"Reconciliation: Latest task state",)J"
    R"J("reason":"REASON_RECONCILIATION","source":"SOURCE_MASTER","state":"TASK_RUNNING",)J"
    R"J("task_id":{"value":"task-1"},"timestamp":1764756001.5}}})J";

// A scheduler's ACCEPT with one LAUNCH (shell command, environment, uris, kill policy) and
// filters; default-valued fields present as Mesos's writer includes them.
inline constexpr const char *accept =
    R"J({"accept":{"filters":{"refuse_seconds":10.0},"offer_ids":[{"value":"O0"}],"operations":[)J"
    R"J({"launch":{"task_infos":[{"agent_id":{"value":"S0"},"command":{"environment":{"variables":[)J"
    R"J({"name":"GREETING","type":"VALUE","value":"hello"}]},"shell":true,"uris":[{"extract":true,)J"
    R"J("value":"http://10.0.2.1/app.tgz"}],"value":"echo $GREETING"},"kill_policy":{"grace_period":)J"
    R"J({"nanoseconds":3000000000}},"name":"task-1","resources":[{"name":"cpus","scalar":{"value":0.1},)J"
    R"J("type":"SCALAR"},{"name":"ports","ranges":{"range":[{"begin":31000,"end":31000}]},"type":"RANGES"}],)J"
    R"J("task_id":{"value":"task-1"}}]},"type":"LAUNCH"}]},"framework_id":{"value":"F0"},"type":"ACCEPT"})J";

} // namespace mesos_documents

#endif
