/** Rotor's release, for `rotor --version` and the labels Rotor puts on what it writes. */
export const ROTOR_VERSION = '0.1.0';
