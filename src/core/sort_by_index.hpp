// sort_by_index.hpp — sorts a vector of large records (tensor entries, plans) by moving
// each record once instead of swapping records inside std::sort. With a million tensors,
// sorting the records themselves was over half the work of a conversion: every swap
// moves a name and a shape.
#pragma once

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <utility>
#include <vector>

namespace qfp8 {

/// Sorts `items` by `less`, which must be a strict total order on them (unique keys), so
/// that the result does not depend on the algorithm. Already sorted input (the usual case:
/// files list their tensors in layout order) costs one pass.
template <typename T, typename Less>
void sort_by_index(std::vector<T>& items, Less less) {
  if (std::is_sorted(items.begin(), items.end(), less)) return;
  std::vector<std::size_t> order(items.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return less(items[a], items[b]); });
  std::vector<T> sorted;
  sorted.reserve(items.size());
  for (const std::size_t index : order) sorted.push_back(std::move(items[index]));
  items = std::move(sorted);
}

}  // namespace qfp8
