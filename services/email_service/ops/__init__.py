"""Operations: periodic sync fan-out, cleanup, the beat guard, health, metrics, worker counters."""
