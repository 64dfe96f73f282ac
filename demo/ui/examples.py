"""Ready examples for the Tag tab."""

NEWS = (
    "German Chancellor Olaf Scholz met French President Emmanuel Macron in Paris on Tuesday to discuss "
    "the European Union budget, a spokesman for the Elysee Palace said."
)
FINANCE = (
    "Goldman Sachs raised its price target on Nvidia after the chipmaker beat estimates; shares rose 3% "
    "on the Nasdaq, while Morgan Stanley analyst Joseph Moore kept an overweight rating."
)
LONG = (
    "The United Nations Security Council met in New York on Monday after fighting resumed near the border "
    "between Ethiopia and Eritrea. Secretary-General Antonio Guterres urged both governments to return to the "
    "talks brokered by the African Union in Pretoria last year. Speaking to reporters outside the Council "
    "chamber, British ambassador Barbara Woodward said London would back new sanctions if the violence "
    "continued, and the Chinese envoy Zhang Jun called for restraint. Earlier, the World Food Programme warned "
    "that convoys from Djibouti to Mekele had been halted for a week, leaving hundreds of thousands of people in "
    "the Tigray region without deliveries. Reuters could not independently confirm reports that Eritrean troops "
    "had crossed into the town of Adigrat. Markets in Addis Ababa were calm, according to the Ethiopian News "
    "Agency, and Ethiopian Airlines said flights from Bole International Airport were operating normally. The "
    "European Commission in Brussels announced 50 million euros of emergency aid, and the International Monetary "
    "Fund delayed a visit by its mission chief Alvaro Piris until security improves. Analysts at Chatham House and "
    "the International Crisis Group said the next round of talks, expected in Nairobi, would test whether Kenya's "
    "former president Uhuru Kenyatta can keep both sides at the table."
)
MIXED_CASE = "APPLE CEO TIM COOK VISITED BERLIN ON MONDAY. later, tim cook told reporters in new york that apple loves germany."
NON_ASCII = (
    "Nguyễn Phú Trọng welcomed Jürgen Klinsmann and Søren Kierkegaard's biographer Joakim Garff to Hà Nội, "
    "before flying to São Paulo to meet Luiz Inácio Lula da Silva and Zoë Saldaña."
)

EXAMPLES = [NEWS, FINANCE, LONG, MIXED_CASE, NON_ASCII]
EXAMPLE_LABELS = ["news", "finance", "long paragraph", "mixed case", "non-ASCII names"]
