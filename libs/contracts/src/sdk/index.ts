// Node-only half of the contracts: the producer SDK and JetStream provisioning.
export { publishDeadLetters, type DeadLetter } from './dead-letters.js';
export { EVENT_COUNT_HEADER, EventValidationError, PUBLISHER_CONNECTION, partitionOfEvent, PulseProducer, type ProducerOptions, type PublishReport } from './producer.js';
export { ensureStreams, PartitionCountMismatch, type StreamOptions } from './provision.js';
export { CONTRACTS_DIGEST, VALIDATED_HEADER, ValidationMarks } from './validation-marks.js';
