// The reload hook Rotor runs for the service: ask it to re-read its .env. ROTOR_SECRETS lists
// `id@version` of every secret this reload is for (one reload covers all of a run's secrets).
// A "bad deploy" can be simulated for one version (BREAK_VERSION=id@version): the hook then
// fails, and Rotor rolls back.
const secrets = (process.env.ROTOR_SECRETS ?? '').split(',');
if (process.env.BREAK_VERSION && secrets.includes(process.env.BREAK_VERSION)) {
  console.error(`refusing to reload ${process.env.BREAK_VERSION} (simulated bad deploy)`);
  process.exit(1);
}
const res = await fetch(`${process.env.SERVICE_URL}/reload`, { method: 'POST' });
if (!res.ok) {
  console.error(`reload answered ${res.status}: ${await res.text()}`);
  process.exit(1);
}
