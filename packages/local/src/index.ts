export { type EmbeddedBroker, startBroker, startBrokerWithFallback } from './broker.ts'
