package seed

// Word lists for generated customers.
var (
	firstNames = []string{
		"Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Edsger",
		"Hedy", "Tim", "Katherine", "Donald", "Radia", "John", "Sophie", "Niklaus", "Joan", "Guido",
		"Anita", "Bjarne", "Karen", "Rob", "Lynn", "Brian", "Mary", "Leslie", "Shafi", "Robin",
		"Jean", "Marvin", "Annie", "Claude", "Evelyn", "Yukihiro", "Adele", "James", "Carol", "Rasmus",
	}
	lastNames = []string{
		"Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Allen", "Dijkstra",
		"Lamarr", "Berners-Lee", "Johnson", "Knuth", "Perlman", "McCarthy", "Wilson", "Wirth", "Clarke", "van Rossum",
		"Borg", "Stroustrup", "Sparck Jones", "Pike", "Conway", "Kernighan", "Keller", "Lamport", "Goldwasser", "Milner",
		"Bartik", "Minsky", "Easley", "Shannon", "Berezin", "Matsumoto", "Goldberg", "Gosling", "Shaw", "Lerdorf",
	}
	streets = []string{
		"High Street", "Station Road", "Mill Lane", "Church Street", "Park Avenue", "Market Square",
		"Garden Row", "Harbour Way", "Orchard Close", "Bridge Street", "Elm Grove", "Kings Road",
	}
	cities = []struct{ name, country, dial string }{
		{"Berlin", "DE", "49 30"}, {"Hamburg", "DE", "49 40"}, {"Munich", "DE", "49 89"},
		{"Vienna", "AT", "43 1"}, {"Zurich", "CH", "41 44"}, {"Amsterdam", "NL", "31 20"},
		{"Paris", "FR", "33 1"}, {"Lyon", "FR", "33 4"}, {"Madrid", "ES", "34 91"},
		{"Lisbon", "PT", "351 21"}, {"Milan", "IT", "39 02"}, {"Copenhagen", "DK", "45 33"},
		{"Stockholm", "SE", "46 8"}, {"Dublin", "IE", "353 1"}, {"Brussels", "BE", "32 2"},
		{"Helsinki", "FI", "358 9"},
	}
)
