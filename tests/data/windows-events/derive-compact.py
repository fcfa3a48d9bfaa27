#!/usr/bin/env python3
"""Derives security-4688-4689.compact.xml from the CC0 capture security-4688.evtx-to-mitre-attack.xml.

Why: the tests need real events in the shape EventRecord.ToXml() gives on Windows (one event per line,
single quotes, hex ids unpadded, 7 fractional digits), and process exits (4689) to pair with the starts.
The CC0 capture has neither: libevtx renders it indented, with pointer-width padding, and it holds only
4688 events. This script keeps every 4688 field value verbatim, changes only the rendering, and adds
4689 exits that are *made up* from the starts (documented in README.md beside this file):

- events are ordered by time (stable), and EventRecordID is renumbered 1..N in that order, as in one
  Security log read front to back (the agent's bookmark tests need increasing record ids);
- three starts in four get an exit: same host, ProcessId = the start's NewProcessId, ProcessName = its
  NewProcessName, the subject = the user the start is attributed to (TargetUserSid/-Name/-Domain/-LogonId
  when the start names someone, else the Subject* fields), Status 0x0 (one in seven 0x1), 1..120 s
  after the start but before the same pid starts again on that host;
- one start in ten also gets an exit of its parent (ProcessId) one second later when the capture never
  starts that parent pid on that host: an exit whose start the capture missed, as real captures have.

Run from this folder: python3 derive-compact.py  (deterministic: the same input gives the same bytes).
"""
import datetime
import re

SOURCE = "security-4688.evtx-to-mitre-attack.xml"
TARGET = "security-4688-4689.compact.xml"
NS = "http://schemas.microsoft.com/win/2004/08/events/event"
GUID = "{54849625-5478-4994-a5ba-3e3b0328c30d}"

EVENT = re.compile(r"<Event .*?</Event>", re.S)
DATA = re.compile(r'<Data Name="(\w+)">(.*?)</Data>', re.S)


def one(pattern, text):
    return re.search(pattern, text, re.S).group(1)


def unpad(value):
    """0x00000000000006e8 -> 0x6e8, as ToXml() renders hex ids."""
    if re.fullmatch(r"0x[0-9a-fA-F]+", value):
        return "0x" + format(int(value, 16), "x")
    return value


def parse_time(text):
    # libevtx: 2021-04-22T08:51:04.851518700Z (9 digits, the last two always 00: FILETIME has 100 ns ticks).
    main, frac = text.rstrip("Z").split(".")
    assert frac.endswith("00"), text
    return datetime.datetime.fromisoformat(main).replace(tzinfo=datetime.timezone.utc), int(frac[:7])


def render_time(moment, ticks):
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + "." + format(ticks, "07d") + "Z"


def render(event_id, version, task, when, record_id, pid, tid, computer, data):
    fields = "".join(f"<Data Name='{name}'>{value}</Data>" for name, value in data)
    return (
        f"<Event xmlns='{NS}'><System><Provider Name='Microsoft-Windows-Security-Auditing' Guid='{GUID}'/>"
        f"<EventID>{event_id}</EventID><Version>{version}</Version><Level>0</Level><Task>{task}</Task>"
        f"<Opcode>0</Opcode><Keywords>0x8020000000000000</Keywords><TimeCreated SystemTime='{when}'/>"
        f"<EventRecordID>{record_id}</EventRecordID><Correlation/><Execution ProcessID='{pid}' ThreadID='{tid}'/>"
        f"<Channel>Security</Channel><Computer>{computer}</Computer><Security/></System>"
        f"<EventData>{fields}</EventData></Event>"
    )


def main():
    text = open(SOURCE, encoding="utf-8").read()
    starts = []
    for raw in EVENT.findall(text):
        assert one(r"<EventID>(\d+)<", raw) == "4688"
        moment, ticks = parse_time(one(r'SystemTime="([^"]+)"', raw))
        starts.append({
            "version": one(r"<Version>(\d+)<", raw),
            "moment": moment, "ticks": ticks,
            "pid": one(r'ProcessID="(\d+)"', raw), "tid": one(r'ThreadID="(\d+)"', raw),
            "computer": one(r"<Computer>([^<]*)<", raw),
            "data": [(name, unpad(value)) for name, value in DATA.findall(raw)],
        })
    starts.sort(key=lambda s: (s["moment"], s["ticks"]))  # stable: equal times keep the capture's order

    def field(s, name):
        return dict(s["data"]).get(name)

    # When each (host, pid) starts, to keep made-up exits before the pid's next start.
    starts_of = {}
    for s in starts:
        starts_of.setdefault((s["computer"], int(field(s, "NewProcessId"), 16)), []).append(s["moment"])

    events = []  # (moment, ticks, order, event_id, start-or-exit dict)
    for i, s in enumerate(starts):
        events.append((s["moment"], s["ticks"], len(events), 4688, s))
        host = s["computer"]
        if i % 4 != 3:
            pid = int(field(s, "NewProcessId"), 16)
            later = [t for t in starts_of[(host, pid)] if t > s["moment"]]
            end = s["moment"] + datetime.timedelta(seconds=1 + (i * 7) % 120)
            if later and end >= later[0]:
                end = later[0] - datetime.timedelta(milliseconds=1)
            if end > s["moment"]:
                target = field(s, "TargetUserSid")
                who = "Target" if target not in (None, "S-1-0-0") else "Subject"
                events.append((end, s["ticks"], len(events), 4689, {
                    "computer": host, "pid": s["pid"], "tid": s["tid"],
                    "data": [
                        ("SubjectUserSid", field(s, who + "UserSid")), ("SubjectUserName", field(s, who + "UserName")),
                        ("SubjectDomainName", field(s, who + "DomainName")), ("SubjectLogonId", field(s, who + "LogonId")),
                        ("Status", "0x1" if i % 7 == 0 else "0x0"),
                        ("ProcessId", field(s, "NewProcessId")), ("ProcessName", field(s, "NewProcessName")),
                    ],
                }))
        parent = int(field(s, "ProcessId"), 16)
        if i % 10 == 0 and (host, parent) not in starts_of and field(s, "ParentProcessName"):
            end = s["moment"] + datetime.timedelta(seconds=1)
            events.append((end, s["ticks"], len(events), 4689, {
                "computer": host, "pid": s["pid"], "tid": s["tid"],
                "data": [
                    ("SubjectUserSid", field(s, "SubjectUserSid")), ("SubjectUserName", field(s, "SubjectUserName")),
                    ("SubjectDomainName", field(s, "SubjectDomainName")), ("SubjectLogonId", field(s, "SubjectLogonId")),
                    ("Status", "0x0"), ("ProcessId", field(s, "ProcessId")), ("ProcessName", field(s, "ParentProcessName")),
                ],
            }))
            starts_of[(host, parent)] = []  # one made-up exit per missing parent

    events.sort(key=lambda e: (e[0], e[1], e[2]))
    lines = [
        "<!-- Derived by derive-compact.py from security-4688.evtx-to-mitre-attack.xml (CC0 1.0: "
        "mdecrevoisier/EVTX-to-MITRE-Attack via Yamato-Security/hayabusa-sample-evtx commit "
        "071da2e1f18d570162a61d8fd476f5454bbf6631). 4688 field values verbatim in the EventRecord.ToXml() shape; "
        "EventRecordID renumbered in time order; every 4689 event is made up from the starts (see README.md). -->",
        "<Events>",
    ]
    for number, (moment, ticks, _, event_id, e) in enumerate(events, start=1):
        if event_id == 4688:
            lines.append(render(4688, e["version"], 13312, render_time(moment, ticks), number, e["pid"], e["tid"], e["computer"], e["data"]))
        else:
            lines.append(render(4689, 0, 13313, render_time(moment, ticks), number, e["pid"], e["tid"], e["computer"], e["data"]))
    lines.append("</Events>")
    with open(TARGET, "w", encoding="utf-8", newline="\n") as out:
        out.write("\n".join(lines) + "\n")
    exits = sum(1 for e in events if e[3] == 4689)
    print(f"{TARGET}: {len(starts)} starts (4688), {exits} exits (4689)")


if __name__ == "__main__":
    main()
