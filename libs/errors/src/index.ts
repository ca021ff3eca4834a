export { type ConsumerHandling, type ErrorCatalog, KeelError } from './keel.error';
