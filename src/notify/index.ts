/** Notifications: what the daemon imports. See dispatcher.ts. */
export { Notifications, type NotificationsOptions } from './dispatcher.js';
export { NotifyDroppedError, NotifyError } from './errors.js';
export { notifierSchemas, notifierTypes, type NotifierConfig, type NotifierType } from './registry.js';
export { SIGNATURE_HEADER, signatureHeader, verifySignature } from './signature.js';
export { NOTIFY_EVENTS, type Notification, type NotifyEvent } from './types.js';
