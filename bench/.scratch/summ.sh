for f in "$@"; do
  echo "$f: $(grep -E 'letmepost.publish  ' $f | sed -E 's/.*wall ([0-9.]+) \(median of rounds\), CPU ([0-9.]+) \(95% ([0-9.–]+)\), by process (.*)/w\1 c\2 [\3] {\4}/' | tr '\n' '|') $(grep -E 'twitter-api-v2  ' $f | sed -E 's/.*CPU ([0-9.]+) .*/\1/' | tr '\n' ' ') $(grep -cE '^letme' $f)"
done
