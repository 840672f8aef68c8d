/**
 * Counters and gauges of what degrades rather than fails: dependency errors, subscribers cut off,
 * streams refused, unhandled rejections. Served at `GET /metrics` in Prometheus' text format.
 */

const HELP: Record<string, { type: 'counter' | 'gauge'; help: string }> = {
  dependency_errors_total: {
    type: 'counter',
    help: 'Failed calls to an external dependency that the service survived (by dependency and operation).',
  },
  subscribers_cut_off_total: {
    type: 'counter',
    help: 'Subscriptions ended because their client fell SSE_MAX_QUEUED_EVENTS events behind.',
  },
  streams_refused_total: { type: 'counter', help: 'Subscriptions refused by the stream caps (by scope).' },
  streams_open: { type: 'gauge', help: 'Subscriptions (SSE streams) open in this process.' },
  unhandled_rejections_total: { type: 'counter', help: 'Promise rejections nothing handled (logged; a bug).' },
  database_unavailable_total: {
    type: 'counter',
    help: 'Requests answered 503 because the database could not be reached.',
  },
};

export type MetricName = keyof typeof HELP;
type Labels = Record<string, string>;

const labelKey = (labels: Labels = {}) =>
  Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
    .join(',');

/** A gateway's counters; each gateway has its own, so two in one process do not mix their numbers. */
export function createMetrics() {
  const values = new Map<string, Map<string, number>>();

  function add(name: string, delta: number, labels?: Labels) {
    let series = values.get(name);
    if (!series) {
      series = new Map();
      values.set(name, series);
    }
    const key = labelKey(labels);
    series.set(key, (series.get(key) ?? 0) + delta);
  }

  return {
    /** Label values come from code, never from clients, so the number of series stays fixed. */
    increment: (name: MetricName, labels?: Labels) => add(name, 1, labels),
    add: (name: MetricName, delta: number, labels?: Labels) => add(name, delta, labels),
    value: (name: MetricName, labels?: Labels) => values.get(name)?.get(labelKey(labels)) ?? 0,
    /** Prometheus text exposition format, version 0.0.4. */
    render(): string {
      const lines: string[] = [];
      for (const [name, { type, help }] of Object.entries(HELP)) {
        const metric = `chat_gateway_${name}`;
        lines.push(`# HELP ${metric} ${help}`, `# TYPE ${metric} ${type}`);
        const series = values.get(name);
        if (!series || series.size === 0) lines.push(`${metric} 0`);
        else for (const [key, value] of series) lines.push(`${metric}${key ? `{${key}}` : ''} ${value}`);
      }
      return `${lines.join('\n')}\n`;
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
