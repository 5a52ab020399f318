// The reload hook Rotor runs for the service: ask it to re-read its .env. A "bad deploy" can
// be simulated for one version (BREAK_VERSION): the hook then fails, and Rotor rolls back.
const version = process.env.ROTOR_VERSION;
if (process.env.BREAK_VERSION && process.env.BREAK_VERSION === `${process.env.ROTOR_SECRET_ID}@${version}`) {
  console.error(`refusing to reload ${process.env.ROTOR_SECRET_ID} v${version} (simulated bad deploy)`);
  process.exit(1);
}
const res = await fetch(`${process.env.SERVICE_URL}/reload`, { method: 'POST' });
if (!res.ok) {
  console.error(`reload answered ${res.status}: ${await res.text()}`);
  process.exit(1);
}
