import { dateIsoTime, isoTime } from '../../../src/modules/chats/direct-reads';

/*
 * The direct reads rewrite the two usual forms of a stored time as text (isoTime), and read any
 * other through a Date as Prisma's client does (dateIsoTime). Both must give the DateTime scalar's
 * answer, the instant's toISOString(), for every time either database can hold.
 */

/** PostgreSQL's text of a `timestamp(3)`: a space before the time, the fraction's trailing zeros dropped. */
const postgresText = (date: Date) => {
  const [day, rest] = date.toISOString().slice(0, -1).split('T') as [string, string];
  const [time, fraction] = rest.split('.') as [string, string];
  const kept = fraction.replace(/0+$/, '');
  return kept ? `${day} ${time}.${kept}` : `${day} ${time}`;
};
/** What Prisma's SQLite adapter writes. */
const adapterText = (date: Date) => `${date.toISOString().slice(0, -1)}+00:00`;

const instants = [
  new Date('0001-01-01T00:00:00.000Z'),
  new Date('1970-01-01T00:00:00.000Z'),
  new Date('2024-02-29T23:59:59.999Z'),
  new Date('2026-11-29T23:30:52.500Z'),
  new Date('2026-11-29T23:30:52.050Z'),
  new Date('2026-11-29T23:30:52.005Z'),
  new Date('9999-12-31T23:59:59.999Z'),
];
// And a thousand random instants between 1900 and 2100.
let seed = 7;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
for (let i = 0; i < 1000; i++) instants.push(new Date(Date.UTC(1900, 0, 1) + random() * 200 * 365.25 * 86_400_000));

describe('isoTime', () => {
  it.each([
    ['PostgreSQL', postgresText],
    ['the SQLite adapter', adapterText],
  ])('answers the instant of %s text as a Date would', (_name, text) => {
    for (const instant of instants) {
      const stored = text(instant);
      expect({ stored, iso: isoTime(stored) }).toEqual({ stored, iso: instant.toISOString() });
      expect(dateIsoTime(stored)).toBe(instant.toISOString());
    }
  });

  it('reads the other forms through a Date', () => {
    const others = [
      '2024-01-03 04:05:06.1234',
      '2024-01-03T04:05:06+02:00',
      '2024-01-03',
      '2024-01-03 04:05:06.5+01',
      // Impossible times only text written outside Prisma could hold: a Date rolls them over.
      '2025-02-29 10:00:00',
      '2025-01-01T24:00:00.000+00:00',
      '2025-04-31T10:00:00.000+00:00',
    ];
    for (const stored of others) {
      expect({ stored, iso: isoTime(stored) }).toEqual({ stored, iso: dateIsoTime(stored) });
    }
    // And times a Date refuses are refused (the read then fails and the executor answers).
    for (const stored of ['2025-13-01 00:00:00', '2025-01-01 10:60:00']) {
      expect(() => isoTime(stored)).toThrow(RangeError);
    }
    expect(isoTime(Date.UTC(2024, 0, 3))).toBe('2024-01-03T00:00:00.000Z');
    expect(() => isoTime('not a time')).toThrow(RangeError);
  });
});
