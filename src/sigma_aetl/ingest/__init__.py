"""The service layer: the use cases every face (HTTP, Kafka, CLI) calls — pipeline, gateway assembly,
group commit, file ingestion, the trial of a candidate version, outcome counting."""
