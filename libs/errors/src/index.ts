export { type ConsumerHandling, type ErrorCatalog, KeelError, isKeelError } from './keel.error';
