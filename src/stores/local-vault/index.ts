export { LocalVault, type LocalVaultOptions } from './vault.js';
