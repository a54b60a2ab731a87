/**
 * 公安局 (household registration): the deaths registered and deregistered — adults of 45 and over, all still on
 * the stale roster. R10 is planted here and by the departments that keep paying or insuring the dead
 * (assistance.ts, insurance.ts); its truth is judged from all three (after-death.ts).
 */
import { ageAt, daysBefore } from './dates.ts';
import { type Focus, type Named, named } from './focus.ts';

export interface DeathRecord extends Named {
  died: string;
  deregistered: string;
}

export function registerDeaths({ onRoster, rng, asOf }: Focus): DeathRecord[] {
  const deaths: DeathRecord[] = [];
  const elders = onRoster.filter((p) => ageAt(p.birth, asOf) >= 45);
  const deadCount = Math.max(6, Math.round(elders.length * 0.006));
  for (let i = 0; i < deadCount && i < elders.length; i++) {
    const p = elders[Math.floor((i * elders.length) / deadCount)]!;
    // Spread over the last year, the oldest in the previous calendar year for most reference dates (R10).
    const died = daysBefore(asOf, [20, 70, 130, 190, 260, 350][i % 6]! + rng.int(0, 9));
    deaths.push({ ...named(p), died, deregistered: daysBefore(died, -rng.int(3, 9)) });
  }
  return deaths;
}

/** Whether a person is alive by the deaths registered. */
export function aliveBy(deaths: readonly DeathRecord[]): (id: string) => boolean {
  const dead = new Set(deaths.map((d) => d.id));
  return (id) => !dead.has(id);
}
