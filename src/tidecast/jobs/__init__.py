"""Jobs: what a training or batch job asks for, its lifecycle in the database, and the workers.

`config` (the training `JobRequest`, native or SageMaker's `CreateAutoMLJobV2`), `batch` (the
`BatchRequest` and how a batch job runs `tidecast.batch`), `store` (the queue: `JobStore`),
`worker` (the processes that claim and run jobs) and `pool` (the service's supervised workers).
Builds on `tidecast.registry`; the service and the CLI build on it, and nothing here imports them.
"""
