"""Choose the share of hm_hungle45 images bundled in data/hm_sample/images (run once, by hand).

The articles most likely to be shown come first, until the budget is spent:
1. articles the sample customers bought in the test week 2020-09-16..22 (the ground truth shown
   next to recommendations);
2. the most purchased articles of hm_lastweek on 2020-09-16..21 (what popularity recommends on
   the one-week task), top 300;
3. articles the sample customers bought from 2020-08-26 to 2020-09-15 (their recent history);
4. the most purchased articles of the sample in the 4 weeks before 2020-09-16, then over the
   whole history (what popularity and the graph methods recommend on the sample task).
Only articles that have an image in the source are considered.

Usage: python data/hm_sample/select_images.py SOURCE_IMAGES_DIR [BUDGET_BYTES]
"""

import shutil
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent


def main() -> None:
    source = Path(sys.argv[1])
    budget = int(sys.argv[2]) if len(sys.argv) > 2 else 25_000_000
    tx = pd.read_csv(HERE / "transactions_train_sample.csv", dtype={"article_id": str})
    tx["t_dat"] = pd.to_datetime(tx["t_dat"])
    week = pd.read_parquet(
        HERE.parent / "hm_lastweek" / "transactions_2020-09-16_22_half_a.parquet")
    week["article_id"] = week["article_id"].astype(str).str.zfill(10)
    week = week[pd.to_datetime(week["t_dat"]) < "2020-09-22"]

    def by_units(frame):
        return frame["article_id"].value_counts(sort=True).index.tolist()

    ranked = (
        by_units(tx[tx["t_dat"] >= "2020-09-16"])
        + by_units(week)[:300]
        + by_units(tx[(tx["t_dat"] >= "2020-08-26") & (tx["t_dat"] < "2020-09-16")])
        + by_units(tx[(tx["t_dat"] >= "2020-08-19") & (tx["t_dat"] < "2020-09-16")])
        + by_units(tx)
    )
    target = HERE / "images"
    chosen, used = [], 0
    for article_id in dict.fromkeys(ranked):
        src = source / article_id[:3] / f"{article_id}.jpg"
        if not src.exists():
            continue
        size = src.stat().st_size
        if used + size > budget:
            break
        dst = target / article_id[:3] / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        chosen.append(article_id)
        used += size
    print(f"copied {len(chosen)} images, {used:,} bytes")


if __name__ == "__main__":
    main()
