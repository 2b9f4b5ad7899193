"""The numba kernel of the synthetic generator: one chunk of customers to transaction rows.

Kept in its own module so that numba (a heavy import) loads only when data is generated, and
so that the compiled kernel is cached on disk between runs.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def generate_chunk(seed, rows, primary, secondary, primary_weight, online, day_cdf,
                   unit_cdf, visit_probability, repurchase, variant, cum, cell_cdf,
                   cell_start, cell_end, perm, product, product_start, product_size,
                   out_day, out_customer, out_article, out_channel):
    """Write the rows of customers ``0..len(rows)-1`` of one chunk; return how many.

    Parameters
    ----------
    seed : int
        Seed of numba's random state for this chunk.
    rows : int64 array of shape (n,)
        Rows (units) of each customer of the chunk.
    primary, secondary : int32 arrays of shape (n,)
        Each customer's archetypes; ``primary_weight`` float64 (n,) the primary's share.
    online : float64 array of shape (n,)
        Probability that a visit is online (channel 2).
    day_cdf : float64 array of shape (num_days,)
        Cumulative visit weight of each day.
    unit_cdf : float64 array of shape (max_units,)
        Cumulative probability of 1, 2, ... units a line.
    visit_probability, repurchase, variant : float
        Chance that a further line opens a new visit, repeats an earlier day's article, or
        takes another colour variant of an article already bought.
    cum : float64 array of shape (num_weeks, num_articles)
        Cumulative weekly popularity of articles in taste-cell order.
    cell_cdf : float64 array of shape (num_weeks, num_archetypes, num_cells)
        Cumulative weekly choice weight of each cell per archetype.
    cell_start, cell_end : int64 arrays of shape (num_cells,)
        Each cell's range in the cell order; ``perm`` int32 (num_articles,) maps it to articles.
    product : int32 array of shape (num_articles,)
        Product of each article; ``product_start``/``product_size`` int64 (num_products,).
    out_day, out_customer, out_article : int64 arrays of shape (sum(rows),)
        Output: day from the start, customer within the chunk, article; ``out_channel`` int8.
    """
    np.random.seed(seed)
    max_rows = 1
    for c in range(rows.shape[0]):
        max_rows = max(max_rows, rows[c])
    units = np.empty(max_rows, np.int64)
    line_visit = np.empty(max_rows, np.int64)
    line_article = np.empty(max_rows, np.int64)
    visit_day = np.empty(max_rows, np.int64)
    visit_channel = np.empty(max_rows, np.int8)
    n_cells = cell_start.shape[0]
    pos = 0
    for c in range(rows.shape[0]):
        left = rows[c]
        if left == 0:
            continue
        # Lines of one or more units (exact-duplicate rows).
        n_lines = 0
        while left > 0:
            q = np.searchsorted(unit_cdf, np.random.random(), side="right") + 1
            q = min(q, left)
            units[n_lines] = q
            n_lines += 1
            left -= q
        # Visits: days from the calendar rhythm, in order; one channel each.
        n_visits = 1 + np.random.binomial(n_lines - 1, visit_probability)
        for v in range(n_visits):
            visit_day[v] = np.searchsorted(day_cdf, np.random.random(), side="right")
        visit_day[:n_visits].sort()
        for v in range(n_visits):
            visit_channel[v] = 2 if np.random.random() < online[c] else 1
        for i in range(n_lines):
            line_visit[i] = i if i < n_visits else np.random.randint(0, n_visits)
        line_visit[:n_lines].sort()
        # Choices, line by line; `earlier` counts lines bought on an earlier day.
        earlier = 0
        for i in range(n_lines):
            day = visit_day[line_visit[i]]
            while earlier < i and visit_day[line_visit[earlier]] < day:
                earlier += 1
            week = day // 7
            u = np.random.random()
            a = -1
            if earlier > 0 and u < repurchase:
                a = line_article[np.random.randint(0, earlier)]
            elif i > 0 and u < repurchase + variant:
                bought = line_article[np.random.randint(0, i)]
                p = product[bought]
                if product_size[p] > 1:  # another variant, never the one bought
                    a = product_start[p] + np.random.randint(0, product_size[p] - 1)
                    if a >= bought:
                        a += 1
            if a < 0:
                k = primary[c] if np.random.random() < primary_weight[c] else secondary[c]
                row = cell_cdf[week, k]
                cell = np.searchsorted(row, np.random.random() * row[n_cells - 1],
                                       side="right")
                cell = min(cell, n_cells - 1)
                s, e = cell_start[cell], cell_end[cell]
                base = cum[week, s - 1] if s > 0 else 0.0
                x = base + np.random.random() * (cum[week, e - 1] - base)
                j = s + np.searchsorted(cum[week, s:e], x, side="right")
                a = perm[min(j, e - 1)]
            line_article[i] = a
            for _ in range(units[i]):
                out_day[pos] = day
                out_customer[pos] = c
                out_article[pos] = a
                out_channel[pos] = visit_channel[line_visit[i]]
                pos += 1
    return pos

