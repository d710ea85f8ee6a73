# procgroup labs
#
#   make                      build every lab program (labs/ and solutions/) into build/
#   make grade                grade your labs/ tree          LAB=NN   only one lab
#                             SUBMISSION=DIR  grade DIR (laid out like labs/)
#                             RESULTS=FILE    also write Gradescope's results.json to FILE
#                             REPEAT=N        grade N times, report every check whose verdict changed
#   make grade-class SUBMISSIONS=DIR [OUT=DIR] [LAB=NN]
#                             grade one folder per student: OUT/gradebook.csv and OUT/feedback/
#   make test                 the project's own test suite (what CI runs)
#   make tree [PID=N]         draw a session as session -> groups -> processes
#   make handout              build/procgroup-labs.tar.gz: the tree for students, without solutions
#   make deps                 find (or, as root, install) a Python with pytest and pexpect
#   make clean                remove build/

CFLAGS  := -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -O2 -g
HELPER  := labs/common/checkpoint.c
HEADER  := labs/common/checkpoint.h
SOURCES := $(filter-out labs/common/%,$(wildcard labs/*/*.c solutions/*/*.c))
PROGRAMS := $(patsubst %.c,build/%,$(SOURCES))

# Every recipe that needs Python asks grader/find-python for it (it installs what is missing).
FIND_PYTHON := sh grader/find-python

.PHONY: all grade grade-class test tree handout deps clean program

all: $(PROGRAMS)

build/%: %.c $(HELPER) $(HEADER)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ilabs/common -o $@ $< $(HELPER)

# One program, from anywhere: the grader compiles submissions with this rule, so the flags
# above are the only ones. Usage: make program SRC=/abs/path/x.c OUT=/abs/path/x
program:
	@test -n "$(SRC)" -a -n "$(OUT)" || { echo "usage: make program SRC=file.c OUT=binary" >&2; exit 2; }
	@mkdir -p $(dir $(OUT))
	$(CC) $(CFLAGS) -I$(CURDIR)/labs/common -o $(OUT) $(SRC) $(CURDIR)/$(HELPER)

deps:
	@py=$$($(FIND_PYTHON)) && echo "Python with pytest and pexpect: $$py"

grade:
	@py=$$($(FIND_PYTHON)) && exec $$py -m grader \
		$(if $(LAB),--lab '$(LAB)') \
		$(if $(SUBMISSION),--submission '$(SUBMISSION)') \
		$(if $(RESULTS),--results '$(RESULTS)') \
		$(if $(REPEAT),--repeat '$(REPEAT)')

grade-class:
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade-class SUBMISSIONS=DIR [OUT=DIR] [LAB=NN]" >&2; exit 2; }
	@py=$$($(FIND_PYTHON)) && exec $$py -m grader.batch '$(SUBMISSIONS)' '$(or $(OUT),build/class)' \
		$(if $(LAB),--lab '$(LAB)')

test:
	@py=$$($(FIND_PYTHON)) && exec $$py -m pytest grader/selftest -p no:cacheprovider -q -ra

tree:
	@py=$$($(FIND_PYTHON)) && exec $$py grader/pgtree $(PID)

handout:
	@mkdir -p build
	git archive --format=tar.gz --prefix=procgroup-labs/ -o build/procgroup-labs.tar.gz HEAD \
		README.md Makefile labs grader docs ':!grader/mutants' ':!grader/selftest' ':!grader/stress' \
		':!docs/instructor-guide.md'
	@echo "build/procgroup-labs.tar.gz: labs/, the grader and the docs, without solutions or mutants"

clean:
	rm -rf build
