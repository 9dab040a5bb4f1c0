"""Word lists for generated people, employers and practices.

The names are common, made-up combinations; a few carry apostrophes, hyphens and spaces on purpose so
that adapters meet HTML escaping and multi-part surnames.
"""

FEMALE_FIRST = (
    "Abigail", "Alicia", "Amanda", "Amy", "Andrea", "Angela", "Anna", "Ashley", "Barbara", "Beatriz",
    "Brenda", "Brianna", "Carmen", "Carol", "Catherine", "Chloe", "Christina", "Claire", "Danielle",
    "Deborah", "Diana", "Donna", "Elena", "Elizabeth", "Emily", "Emma", "Evelyn", "Fatima", "Grace",
    "Hannah", "Heather", "Isabella", "Jacqueline", "Janet", "Jennifer", "Jessica", "Joyce", "Julia",
    "Karen", "Katherine", "Kimberly", "Laura", "Linda", "Lisa", "Lucia", "Madison", "Margaret", "Maria",
    "Megan", "Melissa", "Michelle", "Nancy", "Natalie", "Nicole", "Olivia", "Pamela", "Patricia",
    "Priya", "Rachel", "Rebecca", "Rosa", "Samantha", "Sandra", "Sarah", "Sofia", "Stephanie", "Susan",
    "Teresa", "Victoria", "Wei", "Yolanda", "Zoe", "Mary Ann", "Anne-Marie",
)

MALE_FIRST = (
    "Aaron", "Adam", "Ahmed", "Alejandro", "Andrew", "Anthony", "Benjamin", "Brandon", "Brian",
    "Carlos", "Charles", "Christopher", "Daniel", "David", "Dennis", "Diego", "Donald", "Douglas",
    "Edward", "Eric", "Ethan", "Francisco", "Frank", "Gabriel", "Gary", "George", "Gregory", "Henry",
    "Hiroshi", "Isaac", "Jacob", "James", "Jason", "Javier", "Jeffrey", "John", "Jonathan", "Jose",
    "Joseph", "Joshua", "Juan", "Justin", "Kenneth", "Kevin", "Kwame", "Larry", "Liam", "Luis", "Mark",
    "Matthew", "Michael", "Nathan", "Nicholas", "Noah", "Omar", "Patrick", "Paul", "Peter", "Raj",
    "Raymond", "Richard", "Robert", "Ryan", "Samuel", "Scott", "Stephen", "Steven", "Thomas", "Timothy",
    "Tyler", "Victor", "William", "Jean-Paul",
)

LAST = (
    "Adams", "Alvarez", "Anderson", "Baker", "Banerjee", "Bennett", "Brooks", "Brown", "Campbell",
    "Carter", "Castillo", "Chen", "Clark", "Collins", "Cook", "Cooper", "Cruz", "Davis", "Diaz",
    "Edwards", "Evans", "Fischer", "Flores", "Foster", "Garcia", "Gomez", "Gonzalez", "Gray", "Green",
    "Hall", "Harris", "Hernandez", "Hill", "Hoffman", "Howard", "Hughes", "Jackson", "James", "Jenkins",
    "Johnson", "Jones", "Kelly", "Kim", "King", "Kowalski", "Lee", "Lewis", "Lopez", "Martin",
    "Martinez", "Mendoza", "Miller", "Mitchell", "Moore", "Morales", "Morgan", "Morris", "Murphy",
    "Myers", "Nelson", "Nguyen", "Okafor", "Ortiz", "Parker", "Patel", "Perez", "Peterson", "Phillips",
    "Price", "Ramirez", "Reed", "Reyes", "Richardson", "Rivera", "Roberts", "Robinson", "Rodriguez",
    "Rogers", "Ross", "Russell", "Sanchez", "Sanders", "Schmidt", "Scott", "Shah", "Singh", "Smith",
    "Stewart", "Sullivan", "Taylor", "Thomas", "Thompson", "Torres", "Tran", "Turner", "Walker", "Ward",
    "Watson", "White", "Williams", "Wilson", "Wood", "Wright", "Wu", "Young", "Zhang",
    # Names that exercise escaping and multi-part surnames.
    "O'Neil", "O'Brien", "D'Angelo", "Garcia-Lopez", "Smith-Jones", "Van Dyke", "De La Cruz", "McDonald",
    "St. John",
)

EMPLOYER_FIRST = (
    "Harbor Point", "Summit Ridge", "Cedar Valley", "Granite State", "Blue Heron", "Lakeshore",
    "Prairie Wind", "Ironwood", "Silver Creek", "Northgate", "Pinecrest", "Redstone", "Westfield",
    "Oak Hollow", "Riverbend", "Stonebridge", "Clearwater", "Meadowlark",
)

EMPLOYER_KIND = (
    "Logistics", "Public Schools", "Manufacturing", "Credit Union", "Builders", "Dental Group",
    "Hospitality", "Software", "Foods", "Transit Authority", "Realty", "Printing", "Engineering",
)

EMPLOYER_SUFFIX = ("Inc.", "LLC", "Co.", "Corp.", "", "& Sons", "Partners")

PRACTICES = (
    "Maple Grove Family Medicine", "Riverside Internal Medicine", "Hillcrest Primary Care",
    "Lakeview Pediatrics & Family Care", "Bayside Community Clinic", "Northfield Medical Group",
)

STREETS = ("Main St", "Oak Ave", "Elm St", "Park Blvd", "Washington Ave", "Lincoln Rd", "Cedar Ln")

CITIES = (("Springfield", "IL", "627"), ("Fairview", "OR", "970"), ("Madison", "WI", "537"),
          ("Georgetown", "TX", "786"), ("Franklin", "TN", "370"))
