"""Alerts: rules that watch the endpoints, their accuracy and the jobs, and tell someone.

* `rules` - the rules and channels, read from a TOML file or the API, checked with clear errors;
* `traffic` - windows over the service's request counters and latency histograms;
* `signals` - what each kind of rule measures, from traffic, the monitoring data and the jobs;
* `incidents` - the state machine kept in the database: one incident from firing to resolved;
* `channels` - notifications: signed webhooks retried with backoff, e-mail over SMTP, the log;
* `engine` - one evaluation of every rule, and the thread that runs it on a schedule;
* `prometheus` - the same rules as Prometheus alerting rules, for those who run Prometheus.

The package sits above monitoring and jobs (it reads both) and below the adapters: the
service runs the engine and the CLI exports the rules.
"""
